"""Roles and route guards.

This module imports no domain package, so every controller of both halves can use
it. Every route either has a guard from here or is marked public with
``opt=PUBLIC``; a test walks the route table and fails on any route with neither.

The signed-in account is put in the request's scope by the session middleware of
``tipline.accounts`` (a :class:`CurrentUser`, or ``None`` for the anonymous). A
handler receives it as a parameter, ``user: User``, from the app's ``user``
dependency (:data:`USER_DEPENDENCY`, registered once in ``tipline.app``): no handler
looks it up by hand. Outside handlers (guards, middleware, templates)
:func:`current_user` reads it from the connection.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler


class Role(StrEnum):
    """What an account may do; each account also belongs to one org unit."""

    admin = "admin"
    officer = "officer"  # 指定专人, designated officer
    inspector = "inspector"  # 纪检监察员, discipline inspector
    leader = "leader"  # 局领导, bureau leader: receives escalations of breached deadlines
    county_staff = "county_staff"
    township_staff = "township_staff"


ALL_ROLES = tuple(Role)

# Roles that hold secrets or oversee them must sign in with a second factor.
ROLES_REQUIRING_TOTP = frozenset({Role.admin, Role.officer, Role.inspector, Role.leader})

# Put on a route (``opt=PUBLIC``) that anyone, signed in or not, may use.
PUBLIC: dict[str, Any] = {"public": True}

# Put on the few routes (``opt=TOTP_ENROLMENT``) an account that must still enrol its
# second factor may use: enrolment itself, logout, the account page.
TOTP_ENROLMENT_KEY = "totp_enrolment"
TOTP_ENROLMENT: dict[str, Any] = {TOTP_ENROLMENT_KEY: True}


class CurrentUser(msgspec.Struct, frozen=True):
    """The signed-in account as a handler sees it."""

    account_id: int
    username: str
    display_name: str
    role: Role
    org_unit_id: int
    org_unit_name: str
    session_id: int
    totp_enrolled: bool

    @property
    def is_county_level(self) -> bool:
        return self.role is not Role.township_staff


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser:
    """The signed-in account, or 401 for the anonymous."""
    user = connection.scope.get("user")
    if not isinstance(user, CurrentUser):
        raise NotAuthorizedException("error.login_required")
    return user


def provide_user(request: Request[Any, Any, Any]) -> CurrentUser:
    """The ``user`` dependency: the signed-in account (401 for the anonymous)."""
    return current_user(request)


# A handler's signed-in account (``user: User``), injected by name.
User = NamedDependency[CurrentUser]
USER_DEPENDENCY: dict[str, Provide] = {"user": Provide(provide_user, sync_to_thread=False)}


def requires(
    *roles: Role,
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]:
    """A guard admitting signed-in accounts with one of ``roles`` (any role if none given)."""
    allowed = frozenset(roles or ALL_ROLES)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        user = current_user(connection)
        if user.role not in allowed:
            raise PermissionDeniedException("error.forbidden")
        if (
            user.role in ROLES_REQUIRING_TOTP
            and not user.totp_enrolled
            and not handler.opt.get(TOTP_ENROLMENT_KEY)
        ):
            raise PermissionDeniedException("error.totp_enrolment_required")

    guard.__name__ = "requires_" + "_".join(sorted(role.value for role in allowed))
    guard.roles = allowed  # type: ignore[attr-defined]
    return guard


signed_in = requires()
