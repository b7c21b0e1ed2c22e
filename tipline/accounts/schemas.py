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
