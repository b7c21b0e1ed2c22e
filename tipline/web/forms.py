"""Refused forms: the one way a refusal reaches the page the form was posted from.

The convention every package follows:

- a form is a msgspec struct in the package's ``schemas.py``, read with Litestar's
  markers: ``data: URLEncodedBody[XForm]`` on a page, ``data: JSONBody[XIn]`` under
  ``/api/``;
- a service refuses by raising a :class:`tipline.errors.DomainError` subclass from the
  package's ``exceptions.py``; one that concerns one field says so with ``field=``
  (``raise MissingName(field="name")``);
- the handler does not catch it. The app's one handler (``tipline.web.refusals``) answers
  ``/api/`` with the JSON refusal, and a page with the page again: a page handler that
  takes a form names the page it lives on with ``opt=form_page(render)``::

      async def village_page(request: AnyRequest) -> Template: ...   # what GET shows

      @post("/villages/{village_id:int}/committee", opt=form_page(village_page))
      async def record(self, user: User, village_id: Id, data: URLEncodedBody[CommitteeForm]):
          await services.record_committee(user, village_id, data)
          return Redirect(...)

  On a refusal the handler awaits ``render(request)`` (the path parameters are in
  ``request.path_params``) and answers that template with the refusal's status code
  and these in its context (see :func:`refusal_context`):

  ``error``     the message in the user's language;
  ``errors``    ``{field: message}`` when the refusal named a field (show it beside
                the field: ``{% from "web/forms.html" import field_error with context %}``
                then ``{{ field_error("name") }}``);
  ``problems``  the detailed reasons, when there are several (a failed legal check
                lists each rule with its article);
  ``form``      what the user typed, as posted, so nothing is lost;
  ``refusal``   the refusal itself, for a page that shows its structured details (the
                org-unit importer's table of refused cells).

  Without ``form_page`` (a button, not a form) a refused page shows the error page
  with a link back. ``form_page(render, refuse=(...))`` narrows which refusals
  re-render the form (by default :class:`~tipline.errors.Invalid` and
  :class:`~tipline.errors.Conflict`: a 403 or 404 is never "your input", it gets the
  error page).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile

from tipline.errors import Conflict, DomainError, Invalid

AnyRequest = Request[Any, Any, Any]
PageRenderer = Callable[[AnyRequest], Awaitable[Any]]

FORM_PAGE_KEY = "form_page"
DEFAULT_REFUSE: tuple[type[DomainError], ...] = (Invalid, Conflict)


class FormPage:
    """What ``opt=form_page(...)`` puts on a handler: how to draw its page again."""

    def __init__(self, render: PageRenderer, refuse: tuple[type[DomainError], ...]) -> None:
        self.render = render
        self.refuse = refuse

    def applies_to(self, exc: DomainError) -> bool:
        return isinstance(exc, self.refuse)


def form_page(
    render: PageRenderer, refuse: tuple[type[DomainError], ...] = DEFAULT_REFUSE
) -> dict[str, Any]:
    """The handler ``opt`` that re-renders ``render``'s page when the form is refused."""
    return {FORM_PAGE_KEY: FormPage(render, refuse)}


def form_page_of(request: AnyRequest) -> FormPage | None:
    handler = request.scope.get("route_handler")
    page = handler.opt.get(FORM_PAGE_KEY) if handler is not None else None
    return page if isinstance(page, FormPage) else None


# A field the form repeats (a checkbox per row, one ``name="votes"`` input per candidate):
# Litestar decodes a key posted twice or more as a list but a key posted once as a plain
# string, and a key not posted is absent. A form struct declares it
# ``votes: Repeated = []`` and reads it with :func:`each`.
Repeated = list[str] | str


def each(value: Repeated) -> list[str]:
    """A repeated field's values in the order posted, however many were posted."""
    return [value] if isinstance(value, str) else list(value)


POSTED_KEY = "tipline_posted_form"


def keep_posted(request: AnyRequest, fields: dict[str, str]) -> None:
    """Say what was typed, for a form a handler reads itself (the tip box's and the
    hotline's multipart forms are read in memory, never by Litestar): a refusal then
    shows these fields again as :func:`posted` would have."""
    request.scope[POSTED_KEY] = dict(fields)  # type: ignore[literal-required]


async def posted(request: AnyRequest) -> dict[str, Any]:
    """The posted fields as typed: one value a string, a repeated field a list (files
    are left out: a browser cannot be handed one back)."""
    read_by_hand = request.scope.get(POSTED_KEY)
    if isinstance(read_by_hand, dict):
        return dict(read_by_hand)
    if request.method not in ("POST", "PUT", "PATCH"):
        return {}
    try:
        form = await request.form()
    except Exception:
        return {}
    kept: dict[str, Any] = {}
    for name in form:
        values = [v for v in form.getall(name) if not isinstance(v, UploadFile)]
        if values:
            kept[name] = [str(v) for v in values] if len(values) > 1 else str(values[0])
    return kept


def refusal_context(
    exc: DomainError, message: str, problems: list[str], form: dict[str, Any]
) -> dict[str, Any]:
    """What a refused form's page gets besides its own context."""
    field = exc.field
    return {
        "error": message,
        "errors": {field: message} if field else {},
        "problems": problems,
        "form": form,
        "refusal": exc,
    }
