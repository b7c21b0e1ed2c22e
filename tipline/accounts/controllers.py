"""Sign-in, sign-out, the account page, TOTP enrolment and the accounts admin pages.

JSON under ``/api/v1/auth``; pages elsewhere. A refused form is shown again with
its message and a 4xx status rather than a bare error page.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, PathParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_204_NO_CONTENT, HTTP_303_SEE_OTHER

from tipline.accounts import services, sessions, totp
from tipline.accounts.exceptions import PasswordsDiffer
from tipline.accounts.schemas import AccountSummary, LoginBody, LoginResult
from tipline.auth import (
    ALL_ROLES,
    PUBLIC,
    ROLES_REQUIRING_TOTP,
    TOTP_ENROLMENT,
    CurrentUser,
    Role,
    current_user,
    requires,
    signed_in,
)
from tipline.errors import DomainError
from tipline.ledger.services import Actor
from tipline.settings import Settings
from tipline.web.i18n import translate
from tipline.web.templating import ADMIN, EVERYONE, NavItem

AnyRequest = Request[Any, Any, Any]
Locale = NamedDependency[str]

DONE_MESSAGES = {
    "password": "accounts.done.password_changed",
    "totp": "accounts.done.totp_enrolled",
    "created": "accounts.done.created",
    "disabled": "accounts.done.disabled",
    "enabled": "accounts.done.enabled",
    "reset": "accounts.done.password_reset",
    "totp_reset": "accounts.done.totp_reset",
    "email": "accounts.done.email",
}


class LoginForm(msgspec.Struct):
    username: str = ""
    password: str = ""
    totp: str = ""
    next: str = ""


class PasswordForm(msgspec.Struct):
    current_password: str = ""
    new_password: str = ""
    confirm_password: str = ""


class TotpForm(msgspec.Struct):
    code: str = ""


class CreateAccountForm(msgspec.Struct):
    username: str = ""
    display_name: str = ""
    role: str = ""
    org_unit_id: str = ""
    password: str = ""
    confirm_password: str = ""
    email: str = ""


class EmailForm(msgspec.Struct):
    email: str = ""


class ResetPasswordForm(msgspec.Struct):
    new_password: str = ""
    confirm_password: str = ""


def _settings(request: AnyRequest) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def safe_next(value: str | None) -> str:
    """Only a path on this site: never ``//host`` or ``https://host`` (open redirect)."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(ch) < 32 for ch in value)
    ):
        return "/"
    return value


def _done(locale: str, done: str | None) -> str | None:
    key = DONE_MESSAGES.get(done or "")
    return translate(locale, key) if key else None


def _error_text(locale: str, error: DomainError) -> str:
    return translate(locale, error.key, **error.values)


def _user_or_none(request: AnyRequest) -> CurrentUser | None:
    user = request.scope.get("user")
    return user if isinstance(user, CurrentUser) else None


def _login_cookies(result: LoginResult, settings: Settings) -> list[Cookie]:
    """The session cookie, and an officer's key cookie (cleared for everyone else)."""
    key = (
        sessions.key_cookie(result.key_secret, settings)
        if result.key_secret
        else sessions.cleared_key_cookie(settings)
    )
    return [sessions.session_cookie(result.token, settings), key]


def _logout_cookies(settings: Settings) -> list[Cookie]:
    return [sessions.cleared_session_cookie(settings), sessions.cleared_key_cookie(settings)]


def _after_login(account: AccountSummary, next_path: str) -> str:
    if account.totp_required and not account.totp_enrolled:
        return "/account/totp"
    return next_path


class AuthApiController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/login", opt=PUBLIC, status_code=200)
    async def login(
        self, request: AnyRequest, data: JSONBody[LoginBody]
    ) -> Response[AccountSummary]:
        """Sign in; sets the ``tipline_session`` cookie. 401 on any wrong input, 429 when throttled.

        Accounts of roles that require TOTP and have not enrolled yet get a session
        limited to enrolment. A designated officer also gets the ``tipline_key``
        cookie, which unlocks their key for this session only.
        """
        settings = _settings(request)
        result = await services.login(
            data.username,
            data.password,
            data.totp,
            throttle_base_seconds=settings.login_throttle_base_seconds,
            previous_token=request.cookies.get(sessions.COOKIE_NAME),
        )
        return Response(result.account, cookies=_login_cookies(result, settings))

    @post("/logout", opt=PUBLIC, status_code=HTTP_204_NO_CONTENT)
    async def logout(self, request: AnyRequest) -> Response[None]:
        """End this session (does nothing when not signed in) and clear the cookie."""
        user = _user_or_none(request)
        if user is not None:
            await services.logout(user)
        return Response(
            None,
            status_code=HTTP_204_NO_CONTENT,
            cookies=_logout_cookies(_settings(request)),
        )

    @get("/me", guards=[signed_in], opt=TOTP_ENROLMENT)
    async def me(self, request: AnyRequest) -> AccountSummary:
        """The signed-in account."""
        return await services.get_account(current_user(request).account_id)


class LoginPageController(Controller):
    opt = PUBLIC
    include_in_schema = False

    @get("/login", name="login")
    async def login_page(
        self, request: AnyRequest, next: FromQuery[str | None] = None
    ) -> Template | Redirect:
        if _user_or_none(request) is not None:
            return Redirect(safe_next(next))
        return Template("accounts/login.html", context={"next": safe_next(next), "form": {}})

    @post("/login")
    async def login_submit(
        self,
        request: AnyRequest,
        locale: Locale,
        data: URLEncodedBody[LoginForm],
    ) -> Template | Redirect:
        settings = _settings(request)
        next_path = safe_next(data.next)
        try:
            result = await services.login(
                data.username,
                data.password,
                data.totp or None,
                throttle_base_seconds=settings.login_throttle_base_seconds,
                previous_token=request.cookies.get(sessions.COOKIE_NAME),
            )
        except DomainError as error:
            return Template(
                "accounts/login.html",
                context={
                    "next": next_path,
                    "form": {"username": data.username},
                    "error": _error_text(locale, error),
                },
                status_code=error.status_code,
            )
        response = Redirect(_after_login(result.account, next_path), status_code=HTTP_303_SEE_OTHER)
        for cookie in _login_cookies(result, settings):
            response.set_cookie(cookie)
        return response

    @post("/logout", name="logout")
    async def logout(self, request: AnyRequest) -> Redirect:
        """Sign out; public so that an already expired session still lands on the login page."""
        user = _user_or_none(request)
        if user is not None:
            await services.logout(user)
        response = Redirect("/login", status_code=HTTP_303_SEE_OTHER)
        for cookie in _logout_cookies(_settings(request)):
            response.set_cookie(cookie)
        return response


class AccountPageController(Controller):
    """The signed-in holder's own settings; usable before TOTP enrolment."""

    path = "/account"
    guards = [signed_in]
    opt = TOTP_ENROLMENT
    include_in_schema = False

    async def _page(
        self,
        request: AnyRequest,
        locale: str,
        *,
        done: str | None = None,
        error: DomainError | None = None,
    ) -> Template:
        account = await services.get_account(current_user(request).account_id)
        return Template(
            "accounts/account.html",
            context={
                "account": account,
                "done": _done(locale, done),
                "error": _error_text(locale, error) if error else None,
            },
            status_code=error.status_code if error else 200,
        )

    @get("/", name="account")
    async def account_page(
        self, request: AnyRequest, locale: Locale, done: FromQuery[str | None] = None
    ) -> Template:
        return await self._page(request, locale, done=done)

    @post("/password")
    async def change_password(
        self, request: AnyRequest, locale: Locale, data: URLEncodedBody[PasswordForm]
    ) -> Template | Redirect:
        try:
            await services.change_password(
                current_user(request),
                data.current_password,
                data.new_password,
                data.confirm_password,
            )
        except DomainError as error:
            return await self._page(request, locale, error=error)
        return Redirect("/account?done=password", status_code=HTTP_303_SEE_OTHER)

    async def _totp_page(
        self, request: AnyRequest, locale: str, error: DomainError | None = None
    ) -> Template | Redirect:
        user = current_user(request)
        if user.totp_enrolled:
            return Redirect("/account", status_code=HTTP_303_SEE_OTHER)
        issuer = f"{translate(locale, 'app.name')} {_settings(request).county_name}".strip()
        enrolment = await services.start_totp_enrolment(user, issuer)
        return Template(
            "accounts/totp.html",
            context={
                "qr_svg": totp.qr_svg(enrolment.uri),
                "secret_grouped": totp.grouped(enrolment.secret),
                "required": user.role in ROLES_REQUIRING_TOTP,
                "error": _error_text(locale, error) if error else None,
            },
            status_code=error.status_code if error else 200,
        )

    @get("/totp", name="account-totp")
    async def totp_page(self, request: AnyRequest, locale: Locale) -> Template | Redirect:
        """The QR code and the secret as text, and a field for the first code."""
        return await self._totp_page(request, locale)

    @post("/totp")
    async def totp_confirm(
        self, request: AnyRequest, locale: Locale, data: URLEncodedBody[TotpForm]
    ) -> Template | Redirect:
        try:
            await services.confirm_totp_enrolment(current_user(request), data.code)
        except DomainError as error:
            return await self._totp_page(request, locale, error)
        return Redirect("/account?done=totp", status_code=HTTP_303_SEE_OTHER)


def _admin_actor(request: AnyRequest) -> Actor:
    return Actor.account(current_user(request).account_id)


class AdminAccountsController(Controller):
    path = "/admin/accounts"
    guards = [requires(Role.admin)]
    include_in_schema = False

    async def _list_page(
        self,
        locale: str,
        *,
        done: str | None = None,
        error: DomainError | None = None,
        form: CreateAccountForm | None = None,
    ) -> Template:
        return Template(
            "accounts/admin_accounts.html",
            context={
                "accounts": await services.list_accounts(),
                "org_units": await services.assignable_org_units(),
                "roles": ALL_ROLES,
                "form": form or CreateAccountForm(),
                "done": _done(locale, done),
                "error": _error_text(locale, error) if error else None,
            },
            status_code=error.status_code if error else 200,
        )

    async def _detail_page(
        self,
        request: AnyRequest,
        locale: str,
        account_id: int,
        *,
        done: str | None = None,
        error: DomainError | None = None,
    ) -> Template:
        return Template(
            "accounts/admin_account.html",
            context={
                "account": await services.get_account(account_id),
                "is_self": current_user(request).account_id == account_id,
                "done": _done(locale, done),
                "error": _error_text(locale, error) if error else None,
            },
            status_code=error.status_code if error else 200,
        )

    @get("/", name="admin-accounts")
    async def list_accounts(self, locale: Locale, done: FromQuery[str | None] = None) -> Template:
        """Every account with its role, org unit, status and TOTP, and the form to add one."""
        return await self._list_page(locale, done=done)

    @post("/")
    async def create(
        self, request: AnyRequest, locale: Locale, data: URLEncodedBody[CreateAccountForm]
    ) -> Template | Redirect:
        try:
            if data.password != data.confirm_password:
                raise PasswordsDiffer()
            email = services.check_email(data.email)
            account_id = await services.create_account(
                _admin_actor(request),
                username=data.username,
                display_name=data.display_name,
                role=services.parse_role(data.role),
                org_unit_id=int(data.org_unit_id) if data.org_unit_id.isdigit() else 0,
                password=data.password,
            )
            if email:
                await services.set_email(_admin_actor(request), account_id, email)
        except DomainError as error:
            form = msgspec.structs.replace(data, password="", confirm_password="")
            return await self._list_page(locale, error=error, form=form)
        return Redirect("/admin/accounts?done=created", status_code=HTTP_303_SEE_OTHER)

    @get("/{account_id:int}", name="admin-account")
    async def detail(
        self,
        request: AnyRequest,
        locale: Locale,
        account_id: Annotated[int, PathParameter()],
        done: FromQuery[str | None] = None,
    ) -> Template:
        return await self._detail_page(request, locale, account_id, done=done)

    @post("/{account_id:int}/disable")
    async def disable(
        self, request: AnyRequest, locale: Locale, account_id: Annotated[int, PathParameter()]
    ) -> Template | Redirect:
        try:
            await services.disable_account(_admin_actor(request), account_id)
        except DomainError as error:
            return await self._detail_page(request, locale, account_id, error=error)
        return Redirect(f"/admin/accounts/{account_id}?done=disabled", status_code=303)

    @post("/{account_id:int}/enable")
    async def enable(
        self, request: AnyRequest, account_id: Annotated[int, PathParameter()]
    ) -> Redirect:
        await services.enable_account(_admin_actor(request), account_id)
        return Redirect(f"/admin/accounts/{account_id}?done=enabled", status_code=303)

    @post("/{account_id:int}/reset-password")
    async def reset_password(
        self,
        request: AnyRequest,
        locale: Locale,
        account_id: Annotated[int, PathParameter()],
        data: URLEncodedBody[ResetPasswordForm],
    ) -> Template | Redirect:
        try:
            await services.reset_password(
                _admin_actor(request), account_id, data.new_password, data.confirm_password
            )
        except DomainError as error:
            return await self._detail_page(request, locale, account_id, error=error)
        return Redirect(f"/admin/accounts/{account_id}?done=reset", status_code=303)

    @post("/{account_id:int}/email")
    async def set_email(
        self,
        request: AnyRequest,
        locale: Locale,
        account_id: Annotated[int, PathParameter()],
        data: URLEncodedBody[EmailForm],
    ) -> Template | Redirect:
        """Where this account's notifications are e-mailed (empty: the inbox only)."""
        try:
            await services.set_email(_admin_actor(request), account_id, data.email)
        except DomainError as error:
            return await self._detail_page(request, locale, account_id, error=error)
        return Redirect(f"/admin/accounts/{account_id}?done=email", status_code=303)

    @post("/{account_id:int}/reset-totp")
    async def reset_totp(
        self, request: AnyRequest, account_id: Annotated[int, PathParameter()]
    ) -> Redirect:
        await services.reset_totp(_admin_actor(request), account_id)
        return Redirect(f"/admin/accounts/{account_id}?done=totp_reset", status_code=303)


# The pages of the top navigation (registered by tipline.app, which orders the bar).
NAV: list[NavItem] = [
    NavItem("/account", "nav.account", EVERYONE),
    NavItem("/admin/accounts", "nav.admin_accounts", ADMIN),
]


route_handlers: list[Any] = [
    AuthApiController,
    LoginPageController,
    AccountPageController,
    AdminAccountsController,
]
