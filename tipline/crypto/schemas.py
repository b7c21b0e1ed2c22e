"""What the key services hand to their callers."""

from __future__ import annotations

from typing import Literal

import msgspec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from tipline.crypto import primitives

RecipientKind = Literal["officer", "escrow"]


class Recipient(msgspec.Struct, frozen=True):
    """Someone a tip's data keys are sealed to: an officer (``id`` = account id) or the
    escrow key (``id`` = escrow key row id)."""

    kind: RecipientKind
    id: int
    public_key: bytes
    fingerprint: str

    def key(self) -> X25519PublicKey:
        return primitives.public_key_from_bytes(self.public_key)


class KeyStatus(msgspec.Struct, frozen=True):
    escrow_fingerprint: str | None
    escrow_is_demo: bool
    officer_keys: int
    tip_box_open: bool


class EscrowInit(msgspec.Struct, frozen=True):
    """The outcome of ``escrow-init``: where the private key was written, and its fingerprint."""

    fingerprint: str
    path: str
    is_demo: bool
    replaced_fingerprint: str | None = None
