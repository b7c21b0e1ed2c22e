"""Sealing primitives: data keys, content encryption, streams, HPKE, key wrapping.

Nothing here touches the database; :mod:`tipline.crypto.services` keeps the keys.
Why this shape: a tip must stay unreadable to the server at rest (docs/ARCHITECTURE.md principle 1),
and the algorithms may have to change one day (national SM2/SM3/SM4 may be required,
GM/T 0054-2018), so every ciphertext says which algorithm made it.

Envelope (layout version 1)
---------------------------
Every ciphertext this module produces is one byte string::

    envelope = L (1 byte, 1..64) || algorithm identifier (L bytes of ASCII) || body

The identifier names the whole suite and its body layout, and ends in a version:

``chacha20poly1305-v1`` (content, wrapped private keys)
    ``body = nonce (12 random bytes) || ChaCha20-Poly1305 ciphertext || tag (16)``.
    AAD = the envelope header (L || identifier) || the caller's context.

``chacha20poly1305-stream64k-v1`` (streamed content: uploads)
    ``body = prefix (7 random bytes) || chunk_0 || chunk_1 || ... || chunk_n``.
    Each chunk is 64 KiB of plaintext sealed with ChaCha20-Poly1305 (65,552 bytes
    with its tag); the final chunk holds 0..64 KiB and is the only one that may be
    shorter. Nonce of chunk ``i`` = prefix || ``i`` (4 bytes, big-endian) ||
    ``1`` for the final chunk else ``0`` (the STREAM construction of Hoang, Reyhanitabar,
    Rogaway and Vizár, 2015). AAD = header || prefix || context. A dropped final chunk,
    dropped or reordered chunks, appended bytes or a flipped bit all fail.

``hpke-x25519-hkdfsha256-chacha20poly1305-v1`` (a sealed data key)
    ``body = format version (2 bytes, big-endian) || enc (32) || ciphertext || tag``:
    RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305.
    ``info`` = ``b"tipline/sealed-key\\x00"`` || JSON ``{"purpose", "tip", "v"}``
    (sorted keys, no spaces), so a sealed key opens only for the tip, purpose and
    format version it was sealed for.

Public keys are raw X25519 (32 bytes); a fingerprint is SHA-256 over them, shown
as 16 groups of 4 hex digits.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from typing import Final

import msgspec
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from tipline import stretching
from tipline.crypto.exceptions import (
    DecryptionFailed,
    InvalidKey,
    SealedKeyMismatch,
    StreamCorrupted,
    StreamTruncated,
    UnknownAlgorithm,
)

CONTENT_ALGORITHM: Final = "chacha20poly1305-v1"
STREAM_ALGORITHM: Final = "chacha20poly1305-stream64k-v1"
SEAL_ALGORITHM: Final = "hpke-x25519-hkdfsha256-chacha20poly1305-v1"
KEY_ALGORITHM: Final = "x25519"
KDF_NAME: Final = "argon2id"

DATA_KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
STREAM_CHUNK: Final = 64 * 1024
STREAM_PREFIX_BYTES: Final = 7
_STREAM_SEALED_CHUNK: Final = STREAM_CHUNK + TAG_BYTES
_STREAM_MAX_CHUNKS: Final = 2**32
SEAL_FORMAT_VERSION: Final = 1
_SEAL_INFO_LABEL: Final = b"tipline/sealed-key\x00"
_PURPOSE = re.compile(r"[a-z][a-z0-9_.:-]{0,31}")

_HPKE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
_HPKE_ENC_BYTES: Final = 32

# Purposes the tip box seals data keys for; others may be added (a lowercase token).
PURPOSES: Final = ("content", "identity", "message", "attachment")


# --- envelope -----------------------------------------------------------------------------


def envelope_header(algorithm: str) -> bytes:
    raw = algorithm.encode("ascii")
    if not 0 < len(raw) <= 64:
        raise ValueError(f"algorithm identifier of {len(raw)} bytes")
    return bytes([len(raw)]) + raw


def split_envelope(blob: bytes) -> tuple[str, bytes, bytes]:
    """``(algorithm, header, body)`` of an envelope; :class:`UnknownAlgorithm` if unreadable."""
    if not blob or not 0 < blob[0] <= 64 or len(blob) < 1 + blob[0]:
        raise UnknownAlgorithm(algorithm="?")
    end = 1 + blob[0]
    try:
        algorithm = blob[1:end].decode("ascii")
    except UnicodeDecodeError:
        raise UnknownAlgorithm(algorithm="?") from None
    return algorithm, blob[:end], blob[end:]


def algorithm_of(blob: bytes) -> str:
    """The algorithm identifier recorded in a ciphertext."""
    return split_envelope(blob)[0]


def _expect(blob: bytes, algorithm: str) -> tuple[bytes, bytes]:
    found, header, body = split_envelope(blob)
    if found != algorithm:
        raise UnknownAlgorithm(algorithm=found)
    return header, body


# --- data keys and content ----------------------------------------------------------------


def new_data_key() -> bytes:
    """A fresh random 256-bit key for one tip (or one of its parts)."""
    return secrets.token_bytes(DATA_KEY_BYTES)


def _aead(key: bytes) -> ChaCha20Poly1305:
    if len(key) != DATA_KEY_BYTES:
        raise InvalidKey()
    return ChaCha20Poly1305(key)


def encrypt_content(data_key: bytes, plaintext: bytes, *, context: bytes) -> bytes:
    """Encrypt ``plaintext`` in one piece; ``context`` (e.g. tip id and purpose) is bound as AAD."""
    header = envelope_header(CONTENT_ALGORITHM)
    nonce = secrets.token_bytes(NONCE_BYTES)
    return header + nonce + _aead(data_key).encrypt(nonce, plaintext, header + context)


def decrypt_content(data_key: bytes, ciphertext: bytes, *, context: bytes) -> bytes:
    """The plaintext, or :class:`DecryptionFailed` for a wrong key, context or any change."""
    header, body = _expect(ciphertext, CONTENT_ALGORITHM)
    if len(body) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionFailed()
    try:
        return _aead(data_key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], header + context)
    except InvalidTag:
        raise DecryptionFailed() from None


def content_context(tip_id: int | str, purpose: str) -> bytes:
    """A canonical AAD naming a tip and what the bytes are (for callers that want one)."""
    return canonical({"purpose": _check_purpose(purpose), "tip": str(tip_id)})


# --- streams ------------------------------------------------------------------------------


def _stream_nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= _STREAM_MAX_CHUNKS:
        raise ValueError("stream too long")
    return prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


class StreamEncryptor:
    """Encrypts an upload chunk by chunk: memory stays ~64 KiB, no plaintext reaches disk.

    Feed plaintext with :meth:`update` and write out what it returns; :meth:`finalize`
    returns the final chunk. The concatenated output is one envelope.
    """

    def __init__(self, data_key: bytes, *, context: bytes) -> None:
        self._aead = _aead(data_key)
        prefix = secrets.token_bytes(STREAM_PREFIX_BYTES)
        header = envelope_header(STREAM_ALGORITHM)
        self._prefix = prefix
        self._aad = header + prefix + context
        self._pending_header: bytes | None = header + prefix
        self._buffer = bytearray()
        self._counter = 0
        self._done = False

    def _take_header(self) -> bytes:
        header, self._pending_header = self._pending_header, None
        return header or b""

    def update(self, chunk: bytes) -> bytes:
        if self._done:
            raise RuntimeError("stream already finalized")
        self._buffer += chunk
        out = [self._take_header()]
        # A full chunk is sealed as non-final only once more data follows it, so the
        # final chunk is never empty unless the whole stream is.
        while len(self._buffer) > STREAM_CHUNK:
            piece = bytes(self._buffer[:STREAM_CHUNK])
            del self._buffer[:STREAM_CHUNK]
            nonce = _stream_nonce(self._prefix, self._counter, last=False)
            out.append(self._aead.encrypt(nonce, piece, self._aad))
            self._counter += 1
        return b"".join(out)

    def finalize(self) -> bytes:
        if self._done:
            raise RuntimeError("stream already finalized")
        self._done = True
        nonce = _stream_nonce(self._prefix, self._counter, last=True)
        sealed = self._aead.encrypt(nonce, bytes(self._buffer), self._aad)
        self._buffer.clear()
        return self._take_header() + sealed


class StreamDecryptor:
    """Decrypts what :class:`StreamEncryptor` wrote, in pieces of any size.

    Plaintext is released chunk by chunk as each authenticates; the caller must
    treat the whole as untrusted until :meth:`finalize` returns (a stream cut short
    raises :class:`StreamTruncated` there).
    """

    def __init__(self, data_key: bytes, *, context: bytes) -> None:
        self._aead = _aead(data_key)
        self._context = context
        self._aad: bytes | None = None
        self._prefix = b""
        self._buffer = bytearray()
        self._counter = 0
        self._done = False

    def _read_header(self) -> bool:
        """Consume the envelope header and prefix once enough bytes have arrived."""
        if not self._buffer:
            return False
        header_end = 1 + self._buffer[0]
        if len(self._buffer) < header_end + STREAM_PREFIX_BYTES:
            return False
        algorithm, header, _ = split_envelope(bytes(self._buffer[:header_end]))
        if algorithm != STREAM_ALGORITHM:
            raise UnknownAlgorithm(algorithm=algorithm)
        self._prefix = bytes(self._buffer[header_end : header_end + STREAM_PREFIX_BYTES])
        self._aad = header + self._prefix + self._context
        del self._buffer[: header_end + STREAM_PREFIX_BYTES]
        return True

    def _open(self, piece: bytes, counter: int, last: bool) -> bytes:
        assert self._aad is not None
        try:
            return self._aead.decrypt(_stream_nonce(self._prefix, counter, last), piece, self._aad)
        except (InvalidTag, ValueError):
            raise StreamCorrupted() from None

    def update(self, data: bytes) -> bytes:
        if self._done:
            raise RuntimeError("stream already finalized")
        self._buffer += data
        if self._aad is None and not self._read_header():
            return b""
        out = []
        # Keep the last sealed chunk back: only finalize knows it is the final one.
        while len(self._buffer) > _STREAM_SEALED_CHUNK:
            piece = bytes(self._buffer[:_STREAM_SEALED_CHUNK])
            del self._buffer[:_STREAM_SEALED_CHUNK]
            out.append(self._open(piece, self._counter, last=False))
            self._counter += 1
        return b"".join(out)

    def finalize(self) -> bytes:
        if self._done:
            raise RuntimeError("stream already finalized")
        self._done = True
        if self._aad is None and not self._read_header():
            raise StreamTruncated()
        if len(self._buffer) < TAG_BYTES:
            raise StreamTruncated()
        piece = bytes(self._buffer)
        self._buffer.clear()
        try:
            return self._open(piece, self._counter, last=True)
        except StreamCorrupted:
            # A full chunk that opens as non-final: the real final chunk was cut off.
            if len(piece) == _STREAM_SEALED_CHUNK:
                try:
                    self._open(piece, self._counter, last=False)
                except StreamCorrupted:
                    pass
                else:
                    raise StreamTruncated() from None
            raise


def encrypt_stream(
    data_key: bytes, chunks: list[bytes] | tuple[bytes, ...], *, context: bytes
) -> bytes:
    """All of :class:`StreamEncryptor` in one call (tests, small inputs)."""
    encryptor = StreamEncryptor(data_key, context=context)
    return b"".join([*(encryptor.update(chunk) for chunk in chunks), encryptor.finalize()])


def decrypt_stream(data_key: bytes, ciphertext: bytes, *, context: bytes) -> bytes:
    decryptor = StreamDecryptor(data_key, context=context)
    return decryptor.update(ciphertext) + decryptor.finalize()


# --- sealing data keys (HPKE) ------------------------------------------------------------


class SealedKey(msgspec.Struct, frozen=True):
    """A data key sealed to one recipient's public key.

    ``to_bytes`` gives the envelope to store; ``from_bytes`` reads it back.
    """

    algorithm: str
    version: int
    ciphertext: bytes

    def to_bytes(self) -> bytes:
        return envelope_header(self.algorithm) + self.version.to_bytes(2, "big") + self.ciphertext

    @classmethod
    def from_bytes(cls, blob: bytes) -> SealedKey:
        algorithm, _, body = split_envelope(blob)
        if len(body) < 2:
            raise DecryptionFailed()
        return cls(algorithm, int.from_bytes(body[:2], "big"), body[2:])


def canonical(value: dict[str, object]) -> bytes:
    """Sorted keys, no spaces, ASCII: one byte string per value, for ``info`` and AAD."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _check_purpose(purpose: str) -> str:
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError(f"purpose {purpose!r}: expected a lowercase token")
    return purpose


def seal_info(tip_id: int | str, purpose: str, version: int) -> bytes:
    """HPKE ``info``: binds the sealed key to its tip, purpose and format version."""
    return _SEAL_INFO_LABEL + canonical(
        {"purpose": _check_purpose(purpose), "tip": str(tip_id), "v": version}
    )


def seal_data_key(
    data_key: bytes,
    recipient_public_key: X25519PublicKey,
    *,
    tip_id: int | str,
    purpose: str,
    version: int = SEAL_FORMAT_VERSION,
) -> SealedKey:
    """Seal ``data_key`` so that only the holder of the matching private key opens it."""
    if len(data_key) != DATA_KEY_BYTES:
        raise InvalidKey()
    if version != SEAL_FORMAT_VERSION:
        raise ValueError(f"unknown sealed-key format version {version}")
    info = seal_info(tip_id, purpose, version)
    return SealedKey(SEAL_ALGORITHM, version, _HPKE.encrypt(data_key, recipient_public_key, info))


def open_data_key(
    sealed: SealedKey | bytes,
    private_key: X25519PrivateKey,
    *,
    tip_id: int | str,
    purpose: str,
) -> bytes:
    """The data key, or :class:`SealedKeyMismatch` (wrong tip, purpose, key, or altered)."""
    if isinstance(sealed, bytes):
        sealed = SealedKey.from_bytes(sealed)
    if sealed.algorithm != SEAL_ALGORITHM:
        raise UnknownAlgorithm(algorithm=sealed.algorithm)
    if sealed.version != SEAL_FORMAT_VERSION or len(sealed.ciphertext) < _HPKE_ENC_BYTES:
        raise SealedKeyMismatch()
    try:
        data_key = _HPKE.decrypt(
            sealed.ciphertext, private_key, seal_info(tip_id, purpose, sealed.version)
        )
    except (InvalidTag, ValueError):
        raise SealedKeyMismatch() from None
    if len(data_key) != DATA_KEY_BYTES:
        raise SealedKeyMismatch()
    return data_key


# --- key pairs and fingerprints -----------------------------------------------------------


def new_key_pair() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


def public_bytes(key: X25519PublicKey | X25519PrivateKey) -> bytes:
    public = key.public_key() if isinstance(key, X25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def private_bytes(key: X25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def public_key_from_bytes(raw: bytes) -> X25519PublicKey:
    try:
        return X25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise InvalidKey() from None


def private_key_from_bytes(raw: bytes) -> X25519PrivateKey:
    try:
        return X25519PrivateKey.from_private_bytes(raw)
    except ValueError:
        raise InvalidKey() from None


def fingerprint(key: X25519PublicKey | X25519PrivateKey | bytes) -> str:
    """SHA-256 of the raw public key, 64 hex digits (see :func:`format_fingerprint`)."""
    raw = key if isinstance(key, bytes) else public_bytes(key)
    return hashlib.sha256(raw).hexdigest()


def format_fingerprint(hex_digest: str) -> str:
    """``"3f2a 9c01 …"``: 16 groups of 4, easy to read aloud and compare on paper."""
    return " ".join(hex_digest[i : i + 4] for i in range(0, len(hex_digest), 4))


def private_key_pem(key: X25519PrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted: for the escrow key printed and kept offline."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def private_key_from_pem(pem: bytes) -> X25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise InvalidKey() from None
    if not isinstance(key, X25519PrivateKey):
        raise InvalidKey()
    return key


# --- wrapping a private key under a password or a session secret --------------------------


class KdfParams(msgspec.Struct, frozen=True):
    """Argon2id parameters; stored beside each wrapped key and honoured when unwrapping.

    The defaults are RFC 9106 section 4's second recommended option (t=3, 64 MiB,
    p=4), the same as the account passwords.
    """

    time_cost: int = 3
    memory_cost: int = 64 * 1024  # KiB
    parallelism: int = 4
    name: str = KDF_NAME


DEFAULT_KDF: Final = KdfParams()
SALT_BYTES: Final = 16
_KDF_LIMITS = {"time_cost": (1, 64), "memory_cost": (8, 4 * 1024 * 1024), "parallelism": (1, 64)}


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def derive_kek_sync(password: str, salt: bytes, params: KdfParams) -> bytes:
    if params.name != KDF_NAME:
        raise UnknownAlgorithm(algorithm=params.name)
    for field, (low, high) in _KDF_LIMITS.items():
        if not low <= getattr(params, field) <= high:
            raise UnknownAlgorithm(algorithm=f"{params.name}:{field}")
    return hash_secret_raw(
        secret=password.encode("utf-8"),
        salt=salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_cost,
        parallelism=params.parallelism,
        hash_len=DATA_KEY_BYTES,
        type=Type.ID,
    )


async def derive_kek(password: str, salt: bytes, params: KdfParams) -> bytes:
    """The key-encryption key for ``password``: ~0.1 s of argon2id on a key-stretching
    thread (:mod:`tipline.stretching`)."""
    return await stretching.run(derive_kek_sync, password, salt, params)


def wrap_private_key(key: X25519PrivateKey, wrapping_key: bytes, *, binding: bytes) -> bytes:
    """The private key encrypted under ``wrapping_key``; ``binding`` says whose and what for."""
    return encrypt_content(wrapping_key, private_bytes(key), context=binding)


def unwrap_private_key(
    wrapped: bytes, wrapping_key: bytes, *, binding: bytes, public_key: bytes | None = None
) -> X25519PrivateKey:
    """The private key; :class:`DecryptionFailed` if the key or binding is wrong.

    With ``public_key`` the result is also checked to belong to it.
    """
    key = private_key_from_bytes(decrypt_content(wrapping_key, wrapped, context=binding))
    if public_key is not None and public_bytes(key) != public_key:
        raise DecryptionFailed()
    return key


def b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def b64decode(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
