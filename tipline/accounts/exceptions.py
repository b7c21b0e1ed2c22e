"""What the accounts rules refuse, each with its message key in ``accounts/locales``."""

from __future__ import annotations

from tipline.errors import Conflict, DomainError, Forbidden, Invalid, NotFound


class LoginFailed(DomainError):
    """Wrong username, password or code: one message for all, so none is revealed."""

    status_code = 401
    message_key = "accounts.error.login_failed"


class LoginThrottled(DomainError):
    """Too many failed sign-ins in a row; the values say how many seconds to wait."""

    status_code = 429
    message_key = "accounts.error.throttled"


class AccountsInvalid(Invalid):
    """The root of the accounts pages' refusals of what was typed."""


class PasswordPolicyError(AccountsInvalid):
    message_key = "accounts.error.password_too_short"


class PasswordTooShort(PasswordPolicyError):
    message_key = "accounts.error.password_too_short"


class PasswordTooLong(PasswordPolicyError):
    message_key = "accounts.error.password_too_long"


class PasswordTooCommon(PasswordPolicyError):
    message_key = "accounts.error.password_common"


class PasswordContainsUsername(PasswordPolicyError):
    message_key = "accounts.error.password_contains_username"


class PasswordsDiffer(PasswordPolicyError):
    message_key = "accounts.error.password_mismatch"


class WrongCurrentPassword(AccountsInvalid):
    message_key = "accounts.error.wrong_current_password"


class EmailInvalid(AccountsInvalid):
    message_key = "accounts.error.email_invalid"


class UsernameInvalid(AccountsInvalid):
    message_key = "accounts.error.username_invalid"


class UsernameTaken(Conflict):
    message_key = "accounts.error.username_taken"


class DisplayNameInvalid(AccountsInvalid):
    message_key = "accounts.error.display_name_invalid"


class RoleInvalid(AccountsInvalid):
    message_key = "accounts.error.role_invalid"


class OrgUnitNotFound(AccountsInvalid):
    message_key = "accounts.error.org_unit_not_found"


class OrgUnitWrongLevel(AccountsInvalid):
    message_key = "accounts.error.org_unit_wrong_level"


class AccountNotFound(NotFound):
    message_key = "accounts.error.account_not_found"


class CannotDisableSelf(Forbidden):
    message_key = "accounts.error.cannot_disable_self"


class TotpCodeInvalid(AccountsInvalid):
    message_key = "accounts.error.totp_code_invalid"


class TotpAlreadyEnrolled(Conflict):
    message_key = "accounts.error.totp_already_enrolled"
