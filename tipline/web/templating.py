"""The Jinja template engine shared by every package, and what templates may call.

Each package keeps its templates in ``<package>/templates/<package>/``; the engine
searches all of them, so a template is named ``accounts/login.html`` and so on.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import msgspec
from litestar.di import NamedDependency
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from tipline.auth import CurrentUser, Role
from tipline.web.i18n import LOCALE_COOKIE, PACKAGE_ROOTS, choose_locale, translate


class NavItem(msgspec.Struct, frozen=True):
    href: str
    label: str
    roles: frozenset[Role]
    # A number shown beside the label when a middleware put one in ``scope[badge]``.
    badge: str | None = None


ADMIN = frozenset({Role.admin})
EVERYONE = frozenset(Role)

# The top navigation, filtered by role: the base knows only its home page; each package
# names its own pages (a ``NAV`` list beside its controllers) and the assembly
# (``tipline.app``) registers them with :func:`register_nav`, in the bar's order.
NAV: list[NavItem] = [NavItem("/", "nav.home", EVERYONE)]


def register_nav(*items: NavItem) -> None:
    """Add ``items`` to the end of the navigation; one already there is not added again
    (registering the same pages twice, as every app of a process does, is harmless)."""
    for item in items:
        if item not in NAV:
            NAV.append(item)


# The request's locale as a handler parameter (``locale: Locale``), provided by the
# app's ``locale`` dependency; marked explicitly because Litestar 3 drops inferred ones.
Locale = NamedDependency[str]


def template_dirs() -> list[Path]:
    return sorted(
        path for root in PACKAGE_ROOTS if root.exists() for path in root.glob("**/templates")
    )


def request_locale(request: Any) -> str:
    """The locale cookie if valid, else the service's default (never fails: error pages use it)."""
    try:
        default = request.app.state.settings.default_locale
        cookie = request.cookies.get(LOCALE_COOKIE)
    except Exception:
        return "zh-CN"
    return choose_locale(cookie, default)


def _translate_in_template(ctx: Mapping[str, Any], key: str, **values: Any) -> str:
    return translate(request_locale(ctx["request"]), key, **values)


def _locale_in_template(ctx: Mapping[str, Any], request: Any) -> str:
    return request_locale(request)


def _nav_items(ctx: Mapping[str, Any], request: Any) -> list[NavItem]:
    user = request.scope.get("user")
    if not isinstance(user, CurrentUser):
        return []
    return [item for item in NAV if user.role in item.roles]


def make_template_config() -> TemplateConfig[JinjaTemplateEngine]:
    def configure(engine: JinjaTemplateEngine) -> None:
        engine.register_template_callable("_", _translate_in_template)
        engine.register_template_callable("locale", _locale_in_template)
        engine.register_template_callable("nav_items", _nav_items)
        engine.engine.autoescape = True

    return TemplateConfig(
        directory=list[Path | PathLike[Any] | str](template_dirs()),
        engine=JinjaTemplateEngine,
        engine_callback=configure,
    )
