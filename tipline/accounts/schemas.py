"""Request and response bodies of the accounts API, and what services hand back."""

from __future__ import annotations

from typing import Annotated

import msgspec

from tipline.auth import Role

Password = Annotated[str, msgspec.Meta(max_length=1024)]


class LoginBody(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(max_length=64)]
    password: Password
    totp: Annotated[str, msgspec.Meta(max_length=16)] | None = None


class AccountSummary(msgspec.Struct, frozen=True):
    """An account as shown to itself and to administrators (never a secret)."""

    id: int
    username: str
    display_name: str
    role: Role
    org_unit_id: int
    org_unit_name: str
    disabled: bool
    totp_enrolled: bool
    totp_required: bool
    # Where e-mail notifications go; None: the in-app inbox only.
    email: str | None = None


class LoginResult(msgspec.Struct, frozen=True):
    token: str
    account: AccountSummary
    # A designated officer's unlocked key: the ``tipline_key`` cookie value, else None.
    key_secret: str | None = None


class OrgUnitChoice(msgspec.Struct, frozen=True):
    id: int
    code: str
    name: str
    kind: str


class TotpEnrolment(msgspec.Struct, frozen=True):
    """What the enrolment page shows: the pending secret as a QR code and as text."""

    secret: str
    uri: str


# The pages' forms: every field text with a default, so a refused form is shown back as
# typed (never a password: the templates leave those fields empty).


class LoginForm(msgspec.Struct, frozen=True):
    username: str = ""
    password: str = ""
    totp: str = ""
    next: str = ""

    def body(self) -> LoginBody:
        return LoginBody(username=self.username, password=self.password, totp=self.totp or None)


class PasswordForm(msgspec.Struct, frozen=True):
    current_password: str = ""
    new_password: str = ""
    confirm_password: str = ""


class TotpForm(msgspec.Struct, frozen=True):
    code: str = ""


class CreateAccountForm(msgspec.Struct, frozen=True):
    username: str = ""
    display_name: str = ""
    role: str = ""
    org_unit_id: str = ""
    password: str = ""
    confirm_password: str = ""
    email: str = ""

    def org_unit(self) -> int:
        return int(self.org_unit_id) if self.org_unit_id.isdigit() else 0


class EmailForm(msgspec.Struct, frozen=True):
    email: str = ""


class ResetPasswordForm(msgspec.Struct, frozen=True):
    new_password: str = ""
    confirm_password: str = ""
