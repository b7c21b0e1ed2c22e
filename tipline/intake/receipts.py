"""The tipster's receipt (回执): a secret of 24 decimal digits, and what is derived from it.

Why digits: a tipster may have to read the receipt over a phone or copy it on paper;
24 digits (about 80 bits) are shown in six groups of four. GlobaLeaks uses 16.

The receipt is never stored. The server keeps:

* an HMAC-SHA256 of the digits under the receipt key, a random key in a file of the
  data dir (mode 0600), never in the database, so a database dump alone cannot test
  guesses; and
* the public half of an X25519 key pair derived from the digits with HKDF-SHA256,
  so replies sealed to the tipster open only with the receipt.

Both are cheap (HKDF, not argon2id): the submission path must stay fast, and 80 bits
of randomness need no stretching.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tipline.settings import Settings
from tipline.web.security import server_secret

RECEIPT_DIGITS: Final = 24
GROUP: Final = 4
RECEIPT_KEY_FILE: Final = "receipt.key"
TIPSTER_KEY_INFO: Final = b"tipline tipster key v1"


def new_receipt() -> str:
    """24 digits: one number drawn uniformly from ``secrets`` below 10^24 (one read of the
    system's random source, where a draw per digit made 24), written with leading zeros."""
    return f"{secrets.randbelow(10**RECEIPT_DIGITS):0{RECEIPT_DIGITS}d}"


def format_receipt(digits: str) -> str:
    """``"1234 5678 …"``: six groups of four, to read aloud."""
    return " ".join(digits[i : i + GROUP] for i in range(0, len(digits), GROUP))


def receipt_groups(digits: str) -> list[str]:
    return [digits[i : i + GROUP] for i in range(0, len(digits), GROUP)]


def normalize_receipt(text: str) -> str:
    """The digits of what a tipster typed: spaces, dashes and full-width digits allowed.

    Anything else yields a string that matches no receipt (never an error that says
    why), so a malformed and a wrong receipt look the same.
    """
    digits: list[str] = []
    for char in text[:200]:
        if char in " -\t\u3000":
            continue
        if "０" <= char <= "９":
            char = chr(ord(char) - ord("０") + ord("0"))
        digits.append(char)
    joined = "".join(digits)
    if len(joined) == RECEIPT_DIGITS and joined.isascii() and joined.isdigit():
        return joined
    # A fixed-length stand-in keeps the work (and so the time) the same as for a real try.
    return "x" * RECEIPT_DIGITS


def normalize_group(text: str) -> str:
    """One typed group of four digits (full-width digits and spaces allowed)."""
    cleaned = "".join(
        chr(ord(char) - ord("０") + ord("0")) if "０" <= char <= "９" else char
        for char in text[:20]
        if char not in " -\t\u3000"
    )
    return cleaned if len(cleaned) == GROUP and cleaned.isascii() and cleaned.isdigit() else ""


_keys: dict[str, bytes] = {}


def receipt_key(settings: Settings) -> bytes:
    """The server's receipt key (made on first use, mode 0600, outside the database),
    read once per process."""
    key = _keys.get(str(settings.data_dir))
    if key is None:
        path = str(Path(settings.data_dir).resolve() / RECEIPT_KEY_FILE)
        key = _keys.get(path)
        if key is None:
            key = _keys[path] = server_secret(settings, name=RECEIPT_KEY_FILE)
        _keys[str(settings.data_dir)] = key
    return key


def receipt_mac(key: bytes, digits: str) -> str:
    """HMAC-SHA256 of the digits: the only trace of a receipt the database holds."""
    return hmac.new(key, digits.encode("ascii"), hashlib.sha256).hexdigest()


def tipster_private_key(digits: str) -> X25519PrivateKey:
    """The tipster's X25519 key, derived from the receipt (HKDF-SHA256, no argon2)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=TIPSTER_KEY_INFO).derive(
        digits.encode("ascii")
    )
    return X25519PrivateKey.from_private_bytes(raw)
