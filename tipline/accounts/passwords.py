"""Password hashing (argon2id) and the password policy.

Hashing costs ~0.1 s and 64 MiB (RFC 9106's second recommended parameters, the
argon2-cffi defaults), so it runs on the key-stretching threads (:mod:`tipline.stretching`):
a burst of logins queues instead of exhausting memory or starving the tip box.

The policy follows GB/T 22239-2019 (等级保护 2.0) 8.1.4.1 a: passwords must be
complex enough to resist guessing; NIST SP 800-63B 5.1.1.2 says how: a minimum
length and a list of known-bad passwords, without composition rules.
"""

from __future__ import annotations

import functools
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tipline import stretching
from tipline.accounts.exceptions import (
    PasswordContainsUsername,
    PasswordTooCommon,
    PasswordTooLong,
    PasswordTooShort,
)

MIN_LENGTH = 12
MAX_LENGTH = 1024
MIN_DISTINCT_CHARACTERS = 5
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "common-passwords.txt"

DEFAULT_HASHER = PasswordHasher()
HASHER = DEFAULT_HASHER


async def hash_password(password: str) -> str:
    return await stretching.run(HASHER.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str, password: str) -> bool:
    return await stretching.run(_verify, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's."""
    try:
        return HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@functools.cache
def _dummy_hash() -> str:
    return HASHER.hash(secrets.token_urlsafe(16))


async def dummy_verify(password: str) -> None:
    """The same work as a real check, for usernames that do not exist.

    Without it an unknown username would answer ~0.1 s faster and reveal which
    usernames exist.
    """
    dummy = await stretching.run(_dummy_hash)
    await verify_password(dummy, password)


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def check_policy(password: str, username: str) -> None:
    """Refuse a password that is short, common, or built from the username."""
    if len(password) < MIN_LENGTH:
        raise PasswordTooShort(min=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise PasswordTooLong(max=MAX_LENGTH)
    folded = password.lower()
    if folded in common_passwords() or folded.strip() in common_passwords():
        raise PasswordTooCommon()
    if len(set(folded)) < MIN_DISTINCT_CHARACTERS:
        raise PasswordTooCommon()
    if username and username.lower() in folded:
        raise PasswordContainsUsername()
