"""Sign-in, sign-out, the account page, TOTP enrolment and the accounts admin pages.

JSON under ``/api/v1/auth``; pages elsewhere. A refused form is shown again with
its message and a 4xx status rather than a bare error page.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, PathParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_204_NO_CONTENT, HTTP_303_SEE_OTHER

from tipline.accounts import services, sessions, totp
from tipline.accounts.exceptions import PasswordsDiffer
from tipline.accounts.schemas import (
    AccountSummary,
    CreateAccountForm,
    EmailForm,
    LoginBody,
    LoginForm,
    LoginResult,
    PasswordForm,
    ResetPasswordForm,
    TotpForm,
)
from tipline.auth import (
    ALL_ROLES,
    PUBLIC,
    ROLES_REQUIRING_TOTP,
    TOTP_ENROLMENT,
    CurrentUser,
    Role,
    User,
    current_user,
    requires,
    signed_in,
)
from tipline.errors import DomainError
from tipline.ledger.services import Actor
from tipline.settings import Settings
from tipline.web.forms import form_page, posted
from tipline.web.i18n import translate
from tipline.web.templating import ADMIN, EVERYONE, NavItem, request_locale

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
    async def me(self, user: User) -> AccountSummary:
        """The signed-in account."""
        return await services.get_account(user.account_id)


# On the accounts pages every refusal of a form is shown on its page (a wrong sign-in,
# a throttled one, disabling oneself): the form is what was refused.
ANY_REFUSAL: tuple[type[DomainError], ...] = (DomainError,)


async def login_form_page(request: AnyRequest) -> Template:
    """The sign-in form (as refused: ``error`` and the ``form`` typed; ``next`` kept)."""
    typed = await posted(request)
    next_path = safe_next(typed.get("next") or request.query_params.get("next"))
    return Template("accounts/login.html", context={"next": next_path, "form": {}})


async def own_account_page(request: AnyRequest, done: str | None = None) -> Template:
    return Template(
        "accounts/account.html",
        context={
            "account": await services.get_account(current_user(request).account_id),
            "done": _done(request_locale(request), done),
            "error": None,
        },
    )


async def totp_enrolment_page(request: AnyRequest) -> Template | Redirect:
    """The QR code and the secret as text, and a field for the first code."""
    user = current_user(request)
    if user.totp_enrolled:
        return Redirect("/account", status_code=HTTP_303_SEE_OTHER)
    locale = request_locale(request)
    issuer = f"{translate(locale, 'app.name')} {_settings(request).county_name}".strip()
    enrolment = await services.start_totp_enrolment(user, issuer)
    return Template(
        "accounts/totp.html",
        context={
            "qr_svg": totp.qr_svg(enrolment.uri),
            "secret_grouped": totp.grouped(enrolment.secret),
            "required": user.role in ROLES_REQUIRING_TOTP,
            "error": None,
        },
    )


async def accounts_page(request: AnyRequest, done: str | None = None) -> Template:
    """Every account with its role, org unit, status and TOTP, and the form to add one."""
    return Template(
        "accounts/admin_accounts.html",
        context={
            "accounts": await services.list_accounts(),
            "org_units": await services.assignable_org_units(),
            "roles": ALL_ROLES,
            "form": CreateAccountForm(),
            "done": _done(request_locale(request), done),
            "error": None,
        },
    )


async def account_detail_page(request: AnyRequest, done: str | None = None) -> Template:
    account_id = int(request.path_params["account_id"])
    return Template(
        "accounts/admin_account.html",
        context={
            "account": await services.get_account(account_id),
            "is_self": current_user(request).account_id == account_id,
            "done": _done(request_locale(request), done),
            "error": None,
        },
    )


class LoginPageController(Controller):
    opt = PUBLIC
    include_in_schema = False

    @get("/login", name="login")
    async def login_page(
        self, request: AnyRequest, next: FromQuery[str | None] = None
    ) -> Template | Redirect:
        if _user_or_none(request) is not None:
            return Redirect(safe_next(next))
        return await login_form_page(request)

    @post("/login", opt=form_page(login_form_page, refuse=ANY_REFUSAL))
    async def login_submit(self, request: AnyRequest, data: URLEncodedBody[LoginForm]) -> Redirect:
        settings = _settings(request)
        body = data.body()
        result = await services.login(
            body.username,
            body.password,
            body.totp,
            throttle_base_seconds=settings.login_throttle_base_seconds,
            previous_token=request.cookies.get(sessions.COOKIE_NAME),
        )
        next_path = safe_next(data.next)
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

    @get("/", name="account")
    async def account_page(
        self, request: AnyRequest, done: FromQuery[str | None] = None
    ) -> Template:
        return await own_account_page(request, done)

    @post("/password", opt=form_page(own_account_page, refuse=ANY_REFUSAL))
    async def change_password(self, user: User, data: URLEncodedBody[PasswordForm]) -> Redirect:
        await services.change_password(
            user, data.current_password, data.new_password, data.confirm_password
        )
        return Redirect("/account?done=password", status_code=HTTP_303_SEE_OTHER)

    @get("/totp", name="account-totp")
    async def totp_page(self, request: AnyRequest) -> Template | Redirect:
        """The QR code and the secret as text, and a field for the first code."""
        return await totp_enrolment_page(request)

    @post("/totp", opt=form_page(totp_enrolment_page, refuse=ANY_REFUSAL))
    async def totp_confirm(self, user: User, data: URLEncodedBody[TotpForm]) -> Redirect:
        await services.confirm_totp_enrolment(user, data.code)
        return Redirect("/account?done=totp", status_code=HTTP_303_SEE_OTHER)


ON_DETAIL_PAGE = form_page(account_detail_page, refuse=ANY_REFUSAL)


class AdminAccountsController(Controller):
    path = "/admin/accounts"
    guards = [requires(Role.admin)]
    include_in_schema = False

    @get("/", name="admin-accounts")
    async def list_accounts(
        self, request: AnyRequest, done: FromQuery[str | None] = None
    ) -> Template:
        """Every account with its role, org unit, status and TOTP, and the form to add one."""
        return await accounts_page(request, done)

    @post("/", opt=form_page(accounts_page, refuse=ANY_REFUSAL))
    async def create(self, user: User, data: URLEncodedBody[CreateAccountForm]) -> Redirect:
        if data.password != data.confirm_password:
            raise PasswordsDiffer(field="confirm_password")
        email = services.check_email(data.email)
        admin = Actor.account(user.account_id)
        account_id = await services.create_account(
            admin,
            username=data.username,
            display_name=data.display_name,
            role=services.parse_role(data.role),
            org_unit_id=data.org_unit(),
            password=data.password,
        )
        if email:
            await services.set_email(admin, account_id, email)
        return Redirect("/admin/accounts?done=created", status_code=HTTP_303_SEE_OTHER)

    @get("/{account_id:int}", name="admin-account")
    async def detail(
        self,
        request: AnyRequest,
        account_id: Annotated[int, PathParameter()],
        done: FromQuery[str | None] = None,
    ) -> Template:
        return await account_detail_page(request, done)

    @post("/{account_id:int}/disable", opt=ON_DETAIL_PAGE)
    async def disable(self, user: User, account_id: Annotated[int, PathParameter()]) -> Redirect:
        await services.disable_account(Actor.account(user.account_id), account_id)
        return Redirect(f"/admin/accounts/{account_id}?done=disabled", status_code=303)

    @post("/{account_id:int}/enable")
    async def enable(self, user: User, account_id: Annotated[int, PathParameter()]) -> Redirect:
        await services.enable_account(Actor.account(user.account_id), account_id)
        return Redirect(f"/admin/accounts/{account_id}?done=enabled", status_code=303)

    @post("/{account_id:int}/reset-password", opt=ON_DETAIL_PAGE)
    async def reset_password(
        self,
        user: User,
        account_id: Annotated[int, PathParameter()],
        data: URLEncodedBody[ResetPasswordForm],
    ) -> Redirect:
        await services.reset_password(
            Actor.account(user.account_id), account_id, data.new_password, data.confirm_password
        )
        return Redirect(f"/admin/accounts/{account_id}?done=reset", status_code=303)

    @post("/{account_id:int}/email", opt=ON_DETAIL_PAGE)
    async def set_email(
        self,
        user: User,
        account_id: Annotated[int, PathParameter()],
        data: URLEncodedBody[EmailForm],
    ) -> Redirect:
        """Where this account's notifications are e-mailed (empty: the inbox only)."""
        await services.set_email(Actor.account(user.account_id), account_id, data.email)
        return Redirect(f"/admin/accounts/{account_id}?done=email", status_code=303)

    @post("/{account_id:int}/reset-totp")
    async def reset_totp(self, user: User, account_id: Annotated[int, PathParameter()]) -> Redirect:
        await services.reset_totp(Actor.account(user.account_id), account_id)
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
