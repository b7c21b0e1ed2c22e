"""Checkpoints as signed notes (C2SP tlog-checkpoint and signed-note), pure code.

A checkpoint is the text::

    <origin>
    <tree size>
    <base64 root hash>

    — <key name> <base64(key id ‖ Ed25519 signature)>

The signature covers the body (the three lines, each ending in a newline). The key
id is the first 4 bytes of SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key), as in the Go
``note`` package, so other tools can check a tipline checkpoint, and a verifier key
is written ``<name>+<key id hex>+<base64(0x01 ‖ public key)>``. A witness
(the inspector) co-signs with the same kind of line under their own key name.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SIGNATURE_DASH = "\u2014 "
ED25519 = b"\x01"
MAX_NOTE_BYTES = 16 * 1024


class NoteError(ValueError):
    """A checkpoint, signature line or key that is malformed or does not verify."""


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteError(f"{what} is not base64") from None


def _check_name(name: str) -> None:
    if not name or any(ch.isspace() for ch in name) or "+" in name:
        raise NoteError("a key name is non-empty and has no spaces or '+'")


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


@dataclasses.dataclass(frozen=True)
class Verifier:
    name: str
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public)

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(ED25519 + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verifies(self, body: str, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, body.encode())
        except (InvalidSignature, ValueError):
            return False
        return True


def parse_vkey(text: str) -> Verifier:
    """A verifier key ``name+hexid+base64``; its id must match its name and key."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("a verifier key is name+keyid+base64key")
    name, hex_id, encoded = parts
    _check_name(name)
    raw = _b64decode(encoded, "the key")
    if len(raw) != 33 or raw[:1] != ED25519:
        raise NoteError("only Ed25519 verifier keys (0x01 + 32 bytes) are accepted")
    verifier = Verifier(name, raw[1:])
    if verifier.key_id.hex() != hex_id.lower():
        raise NoteError("the key id does not match the key")
    return verifier


@dataclasses.dataclass(frozen=True)
class Signer:
    name: str
    private: Ed25519PrivateKey

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Signer:
        _check_name(name)
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def verifier(self) -> Verifier:
        public = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier(self.name, public)

    def signature_line(self, body: str) -> str:
        signature = self.private.sign(body.encode())
        encoded = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{SIGNATURE_DASH}{self.name} {encoded}\n"


@dataclasses.dataclass(frozen=True)
class SignatureLine:
    name: str
    key_id: bytes
    signature: bytes

    @property
    def text(self) -> str:
        return (
            f"{SIGNATURE_DASH}{self.name} {base64.b64encode(self.key_id + self.signature).decode()}"
        )


def parse_signature_line(line: str) -> SignatureLine:
    line = line.strip("\n").strip("\r")
    if not line.startswith(SIGNATURE_DASH):
        raise NoteError("a signature line starts with an em dash and a space")
    parts = line[len(SIGNATURE_DASH) :].split(" ")
    if len(parts) != 2:
        raise NoteError("a signature line is: — name base64")
    name, encoded = parts
    _check_name(name)
    raw = _b64decode(encoded, "the signature")
    if len(raw) != 4 + 64:
        raise NoteError("an Ed25519 signature line holds a 4-byte key id and 64 bytes")
    return SignatureLine(name, raw[:4], raw[4:])


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    body: str
    signatures: tuple[SignatureLine, ...]

    def signed_by(self, verifier: Verifier) -> bool:
        return any(
            line.name == verifier.name
            and line.key_id == verifier.key_id
            and verifier.verifies(self.body, line.signature)
            for line in self.signatures
        )

    def text(self) -> str:
        return self.body + "\n" + "".join(line.text + "\n" for line in self.signatures)


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    if not origin or "\n" in origin:
        raise NoteError("the origin is one non-empty line")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign_checkpoint(signer: Signer, origin: str, size: int, root: bytes) -> str:
    body = checkpoint_body(origin, size, root)
    return body + "\n" + signer.signature_line(body)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a signed checkpoint (signatures are parsed, not yet checked)."""
    if len(text.encode()) > MAX_NOTE_BYTES:
        raise NoteError("the checkpoint is too long")
    text = text.replace("\r\n", "\n")
    if not text.endswith("\n"):
        text += "\n"
    body, separator, signatures = text.rpartition("\n\n")
    if not separator:
        raise NoteError("a checkpoint has a blank line before its signatures")
    body += "\n"
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise NoteError("a checkpoint body has an origin, a size and a root")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not origin:
        raise NoteError("the origin is empty")
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise NoteError("the tree size is not a decimal number")
    root = _b64decode(root_text, "the root")
    if len(root) != 32:
        raise NoteError("the root is not 32 bytes")
    parsed = tuple(parse_signature_line(line) for line in signatures.split("\n") if line)
    if not parsed:
        raise NoteError("the checkpoint has no signature")
    return Checkpoint(origin, int(size_text), root, body, parsed)


def verified_checkpoint(text: str, verifier: Verifier) -> Checkpoint:
    """Parse and check the log's signature; raise :class:`NoteError` otherwise."""
    checkpoint = parse_checkpoint(text)
    if checkpoint.origin != verifier.name:
        raise NoteError(f"the checkpoint's origin is {checkpoint.origin!r}, not {verifier.name!r}")
    if not checkpoint.signed_by(verifier):
        raise NoteError("the checkpoint's signature does not verify with the log's key")
    return checkpoint
