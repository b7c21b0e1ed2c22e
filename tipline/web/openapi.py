"""What the OpenAPI document says about refusals, and the one refusal routing cannot make.

Every JSON route answers its refusals through one handler (``tipline.web.refusals``):
the body is always ``{"status_code", "error", "detail", "fields"?}``. Litestar only
documents the 400 it raises itself, so a client reading ``/schema/openapi.json``
would not learn that a guarded route answers 401 to a stranger and 403 to the wrong
role, or that an unknown id is a 404. ``document_refusals`` adds those answers to
every ``/api`` operation from the route table (guarded or ``PUBLIC``), so the
document is the contract schemathesis checks the service against
(``tests/tipline/test_openapi_fuzz.py``).

``refuse_impossible_ids`` is the app's ``before_request``: a path id beyond a 32-bit
integer names nothing that can exist (PostgreSQL keys are ``integer``), and passing it
on makes PostgreSQL raise a ``DataError`` and SQLite, past 64 bits, an
``OverflowError`` (a 500); it is a 404 instead. Integers in the document carry the
same bounds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Litestar, Request, Response
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.exceptions import NotFoundException, ValidationException
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    RequestBody,
    Schema,
)
from litestar.routes import HTTPRoute

from tipline.auth import PUBLIC
from tipline.web.refusals import http_exception_handler, internal_error_handler

KEY_MIN = -(2**31)
KEY_MAX = 2**31 - 1

ERROR_SCHEMA_NAME = "Refusal"
ERROR_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    description="A refusal in the user's language: the message key and the message.",
    properties={
        "status_code": Schema(type=OpenAPIType.INTEGER),
        "error": Schema(type=OpenAPIType.STRING, description="message key"),
        "detail": Schema(type=OpenAPIType.STRING, description="the message"),
        "fields": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(type=OpenAPIType.STRING),
            description="what is wrong with which field",
        ),
    },
    required=["status_code", "error", "detail"],
)

_DESCRIPTIONS = {
    400: "The request is malformed or breaks a rule (the message says which)",
    401: "Not signed in",
    403: "Not allowed for this account, or the session key is missing",
    404: "No such record (or not visible to this account)",
    409: "The record changed meanwhile, or the request repeats one already made",
    413: "The request body is too large",
    429: "Too many attempts; try again later",
    503: "The service cannot take this now (tip box not open, disk full)",
}
# Public routes that check a credential and answer 401 when it is wrong.
CREDENTIAL_PATHS = {"/api/v1/auth/login"}
_WRITE_METHODS = {"post", "put", "patch", "delete"}
_METHODS = ("get", "put", "post", "delete", "patch")


async def refuse_impossible_ids(request: Request[Any, Any, Any]) -> None:
    """404 for a path integer no key column can hold, before it reaches the database.

    A coroutine, because Litestar runs a plain function here in a worker thread, a
    thread hop for every request."""
    for value in request.path_params.values():
        if isinstance(value, int) and not KEY_MIN <= value <= KEY_MAX:
            raise NotFoundException()


def _refusal(status_code: int) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=_DESCRIPTIONS[status_code],
        content={
            "application/json": OpenAPIMediaType(
                schema=Reference(ref=f"#/components/schemas/{ERROR_SCHEMA_NAME}")
            )
        },
    )


def _public_operations(app: Litestar) -> set[tuple[str, str]]:
    public: set[tuple[str, str]] = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.opt.get("public") == PUBLIC["public"] and not handler.resolve_guards():
                public.update((route.path_format, m.lower()) for m in handler.http_methods)
    return public


def _closed_structs(app: Litestar) -> set[str]:
    """Names of the body structs (and the structs inside them) that refuse unknown fields."""
    bodies: list[Any] = []
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if not handler.resolve_include_in_schema():
                    continue  # a page's form (it may hold an uploaded file) is not in the API
                data = handler.parsed_fn_signature.parameters.get("data")
                body = data.type_ if data is not None else None
                if isinstance(body, type) and issubclass(body, msgspec.Struct):
                    bodies.append(body)
    _, components = msgspec.json.schema_components(bodies) if bodies else ((), {})
    return {
        name for name, schema in components.items() if schema.get("additionalProperties") is False
    }


def _close_objects(document: Any, closed: set[str]) -> None:
    """``additionalProperties: false`` on the components of structs with
    ``forbid_unknown_fields``: the service answers 400 to an unknown field, so the
    document must not invite one."""
    for name, schema in (document.components.schemas or {}).items():
        # msgspec names a struct whose name clashes by its module path
        # (``villageaffairs.committees.schemas.MemberIn``), Litestar by its tail
        # (``committees_schemas_MemberIn``).
        is_closed = any(
            name == struct or struct.replace(".", "_").endswith("_" + name) for struct in closed
        )
        if is_closed and isinstance(schema, Schema) and schema.type == OpenAPIType.OBJECT:
            schema.additional_properties = False


def _bound_integers(schema: Any) -> None:
    """32-bit bounds on every integer without its own: the keys and counts they carry."""
    if not isinstance(schema, Schema):
        return
    if schema.type == OpenAPIType.INTEGER:
        schema.minimum = KEY_MIN if schema.minimum is None else schema.minimum
        schema.maximum = KEY_MAX if schema.maximum is None else schema.maximum
    for sub in (
        *(schema.properties or {}).values(),
        *(schema.any_of or []),
        *(schema.one_of or []),
        *(schema.all_of or []),
        schema.items,
    ):
        _bound_integers(sub)


def integer_overflow_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A body or query integer too large for its column reached the database (SQLite
    raises ``OverflowError``, asyncpg a ``DataError`` "value out of int32 range"): the
    request is invalid, not the server broken. Any other ``DataError`` stays a 500."""
    message = str(exc)
    if isinstance(exc, OverflowError) or "out of int" in message or "out of range" in message:
        return http_exception_handler(request, ValidationException(extra=[]))
    return internal_error_handler(request, exc)


def complete_openapi_lazily(app: Litestar, complete: Callable[[Litestar], None]) -> None:
    """Run ``complete(app)`` on the generated document the first time it is asked for.

    Generating and completing the document costs ~0.5 s of route walking; a server
    that is never asked for ``/schema`` (and every test app) should not pay it at start.
    Litestar builds the document on demand in its OpenAPI plugin, whose instance
    (slotted, made by ``Litestar.__init__``) becomes a completing subclass here.
    """

    class CompletingOpenAPIPlugin(OpenAPIPlugin):
        __slots__ = ()

        def provide_openapi(self) -> Any:
            first = self._openapi is None
            document = super().provide_openapi()
            if first:
                complete(self.app)
            return document

    app.plugins.get(OpenAPIPlugin).__class__ = CompletingOpenAPIPlugin


def document_refusals(app: Litestar, prefix: str) -> None:
    """Add the refusals every ``prefix`` operation can answer to the app's OpenAPI document:
    400, 403, 404, 429 and 503 everywhere (public routes refuse a missing tipster session
    with 403), 409 and 413 where the route writes, 401 where a guard stands or a public
    route checks a password. A 204 carries no body, so its content is dropped; integer
    parameters are bounded to 32 bits like the keys they name."""
    document = app.openapi_schema
    if document.components.schemas is None:
        document.components.schemas = {}
    document.components.schemas[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    public = _public_operations(app)
    _close_objects(document, _closed_structs(app))
    for component in document.components.schemas.values():
        _bound_integers(component)
    for path, item in (document.paths or {}).items():
        if not path.startswith(prefix):
            continue
        for method in _METHODS:
            operation = getattr(item, method)
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            operation.responses = responses
            statuses = [400, 403, 404, 429, 503]
            if (path, method) not in public or path in CREDENTIAL_PATHS:
                statuses.append(401)
            if method in _WRITE_METHODS:
                statuses += [409, 413]
            for status_code in sorted(statuses):
                responses.setdefault(str(status_code), _refusal(status_code))
            if "204" in responses and isinstance(responses["204"], OpenAPIResponse):
                responses["204"].content = None
            for parameter in operation.parameters or []:
                schema = getattr(parameter, "schema", None)
                if isinstance(schema, Schema) and schema.type == OpenAPIType.INTEGER:
                    schema.minimum = KEY_MIN if schema.minimum is None else schema.minimum
                    schema.maximum = KEY_MAX if schema.maximum is None else schema.maximum


def declare_request_body(
    app: Litestar, path: str, method: str, body: type[Any], media_types: tuple[str, ...]
) -> None:
    """Document a body a handler reads itself (JSON, or the same fields as a multipart
    form): ``body`` is its msgspec struct, whose schema joins the components."""
    (reference,), components = msgspec.json.schema_components(
        [body], ref_template="#/components/schemas/{name}"
    )
    document = app.openapi_schema
    if document.components.schemas is None:
        document.components.schemas = {}
    for name, json_schema in components.items():
        converted = _schema_from_json(json_schema)
        assert isinstance(converted, Schema)
        document.components.schemas.setdefault(name, converted)
    operation = getattr((document.paths or {})[path], method)
    operation.request_body = RequestBody(
        content={
            media_type: OpenAPIMediaType(schema=_schema_from_json(reference))
            for media_type in media_types
        },
        required=True,
    )


_SCHEMA_KEYS = {
    "type": "type",
    "title": "title",
    "description": "description",
    "properties": "properties",
    "required": "required",
    "maxLength": "max_length",
    "minLength": "min_length",
    "maximum": "maximum",
    "minimum": "minimum",
    "enum": "enum",
    "format": "format",
    "items": "items",
    "anyOf": "any_of",
    "additionalProperties": "additional_properties",
}


def _schema_from_json(json_schema: dict[str, Any]) -> Schema | Reference:
    """msgspec's JSON schema as Litestar's OpenAPI objects (the keywords msgspec writes)."""
    if "$ref" in json_schema:
        return Reference(ref=json_schema["$ref"])
    schema = Schema()
    for key, value in json_schema.items():
        attribute = _SCHEMA_KEYS.get(key)
        if attribute is None:
            continue
        if key == "type":
            value = OpenAPIType(value)
        elif key == "properties":
            value = {name: _schema_from_json(sub) for name, sub in value.items()}
        elif key == "items" or (key == "additionalProperties" and isinstance(value, dict)):
            value = _schema_from_json(value)
        elif key == "anyOf":
            value = [_schema_from_json(sub) for sub in value]
        setattr(schema, attribute, value)
    if schema.type == OpenAPIType.INTEGER:
        schema.minimum = KEY_MIN if schema.minimum is None else schema.minimum
        schema.maximum = KEY_MAX if schema.maximum is None else schema.maximum
    return schema
