"""Sealing primitives: what opens, what does not, and what each ciphertext records."""

from __future__ import annotations

import os

import pytest

from tipline.crypto import primitives
from tipline.crypto.exceptions import (
    DecryptionFailed,
    SealedKeyMismatch,
    StreamCorrupted,
    StreamTruncated,
    UnknownAlgorithm,
)
from tipline.crypto.primitives import (
    STREAM_CHUNK,
    SealedKey,
    StreamDecryptor,
    StreamEncryptor,
    decrypt_content,
    encrypt_content,
    new_data_key,
    open_data_key,
    seal_data_key,
)

CONTEXT = b"tip:17/content"
SEALED_CHUNK = STREAM_CHUNK + 16


def _flip(blob: bytes, index: int) -> bytes:
    changed = bytearray(blob)
    changed[index] ^= 0x01
    return bytes(changed)


def _encrypt_stream(key: bytes, plaintext: bytes, piece: int = 10_000) -> bytes:
    encryptor = StreamEncryptor(key, context=CONTEXT)
    out = [encryptor.update(plaintext[i : i + piece]) for i in range(0, len(plaintext), piece)]
    return b"".join([*out, encryptor.finalize()])


def _decrypt_stream(key: bytes, blob: bytes, piece: int = 7_777) -> bytes:
    decryptor = StreamDecryptor(key, context=CONTEXT)
    out = [decryptor.update(blob[i : i + piece]) for i in range(0, len(blob), piece)]
    return b"".join([*out, decryptor.finalize()])


def _stream_parts(blob: bytes) -> tuple[bytes, list[bytes]]:
    """The header (identifier and prefix) and the sealed chunks of a stream."""
    header_end = 1 + blob[0] + primitives.STREAM_PREFIX_BYTES
    body = blob[header_end:]
    return blob[:header_end], [
        body[i : i + SEALED_CHUNK] for i in range(0, len(body), SEALED_CHUNK)
    ]


def test_data_keys_are_32_random_bytes() -> None:
    keys = {new_data_key() for _ in range(100)}
    assert len(keys) == 100 and all(len(key) == 32 for key in keys)


def test_content_round_trip_records_its_algorithm() -> None:
    key = new_data_key()
    ciphertext = encrypt_content(key, "村霸 张某 强占土地".encode(), context=CONTEXT)
    assert primitives.algorithm_of(ciphertext) == "chacha20poly1305-v1"
    assert "张某".encode() not in ciphertext
    assert decrypt_content(key, ciphertext, context=CONTEXT).decode() == "村霸 张某 强占土地"


def test_content_fails_with_wrong_key_context_or_any_changed_byte() -> None:
    key = new_data_key()
    ciphertext = encrypt_content(key, b"what happened", context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        decrypt_content(new_data_key(), ciphertext, context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        decrypt_content(key, ciphertext, context=b"tip:18/content")
    for index in range(len(ciphertext)):
        with pytest.raises(DecryptionFailed):
            decrypt_content(key, _flip(ciphertext, index), context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        decrypt_content(key, ciphertext[:-1], context=CONTEXT)


def test_unknown_algorithm_is_named() -> None:
    key = new_data_key()
    ciphertext = encrypt_content(key, b"x", context=CONTEXT)
    relabelled = primitives.envelope_header("sm4-gcm-v1") + ciphertext[1 + ciphertext[0] :]
    with pytest.raises(UnknownAlgorithm) as caught:
        decrypt_content(key, relabelled, context=CONTEXT)
    assert caught.value.values == {"algorithm": "sm4-gcm-v1"}


@pytest.mark.parametrize(
    "size", [0, 1, STREAM_CHUNK - 1, STREAM_CHUNK, STREAM_CHUNK + 1, 3 * STREAM_CHUNK, 200_003]
)
def test_stream_round_trip_in_any_piece_sizes(size: int) -> None:
    key = new_data_key()
    plaintext = os.urandom(size)
    blob = _encrypt_stream(key, plaintext)
    assert primitives.algorithm_of(blob) == "chacha20poly1305-stream64k-v1"
    assert _decrypt_stream(key, blob) == plaintext
    assert _decrypt_stream(key, blob, piece=1 + size + 200) == plaintext


def test_stream_encryptor_holds_at_most_one_chunk() -> None:
    encryptor = StreamEncryptor(new_data_key(), context=CONTEXT)
    written = 0
    for _ in range(40):
        written += len(encryptor.update(b"\0" * 25_000))
        assert len(encryptor._buffer) <= STREAM_CHUNK
    assert written > 900_000


def test_stream_detects_a_dropped_final_chunk() -> None:
    key = new_data_key()
    blob = _encrypt_stream(key, os.urandom(3 * STREAM_CHUNK + 500))
    header, chunks = _stream_parts(blob)
    assert len(chunks) == 4
    with pytest.raises(StreamTruncated):
        _decrypt_stream(key, header + b"".join(chunks[:-1]))
    with pytest.raises(StreamTruncated):
        _decrypt_stream(key, header + b"".join(chunks[:2]))
    with pytest.raises(StreamTruncated):
        _decrypt_stream(key, header)


def test_stream_detects_a_final_chunk_cut_short_or_extra_bytes() -> None:
    key = new_data_key()
    blob = _encrypt_stream(key, os.urandom(2 * STREAM_CHUNK + 500))
    with pytest.raises(StreamCorrupted):
        _decrypt_stream(key, blob[:-1])
    with pytest.raises(StreamCorrupted):
        _decrypt_stream(key, blob + b"\0")


def test_stream_detects_reordered_and_dropped_middle_chunks() -> None:
    key = new_data_key()
    blob = _encrypt_stream(key, os.urandom(3 * STREAM_CHUNK + 500))
    header, chunks = _stream_parts(blob)
    with pytest.raises(StreamCorrupted):
        _decrypt_stream(key, header + chunks[1] + chunks[0] + chunks[2] + chunks[3])
    with pytest.raises(StreamCorrupted):
        _decrypt_stream(key, header + chunks[0] + chunks[2] + chunks[3])
    # A chunk of another stream under the same key does not fit either.
    _, other = _stream_parts(_encrypt_stream(key, os.urandom(3 * STREAM_CHUNK)))
    with pytest.raises(StreamCorrupted):
        _decrypt_stream(key, header + chunks[0] + other[1] + chunks[2] + chunks[3])


def test_stream_detects_bit_flips_anywhere() -> None:
    key = new_data_key()
    blob = _encrypt_stream(key, os.urandom(2 * STREAM_CHUNK + 500))
    for index in [0, 5, 35, 40, 100, SEALED_CHUNK + 37, len(blob) - 1]:
        with pytest.raises(DecryptionFailed):
            _decrypt_stream(key, _flip(blob, index))
    with pytest.raises(StreamCorrupted):
        _decrypt_stream(key, _flip(blob, SEALED_CHUNK // 2), piece=len(blob))


def test_stream_fails_with_wrong_context() -> None:
    key = new_data_key()
    blob = _encrypt_stream(key, b"photo bytes")
    decryptor = StreamDecryptor(key, context=b"tip:18/content")
    decryptor.update(blob)
    with pytest.raises(StreamCorrupted):
        decryptor.finalize()


def test_sealed_key_opens_only_for_its_tip_purpose_and_key() -> None:
    officer = primitives.new_key_pair()
    data_key = new_data_key()
    sealed = seal_data_key(data_key, officer.public_key(), tip_id=17, purpose="content")
    assert sealed.algorithm == "hpke-x25519-hkdfsha256-chacha20poly1305-v1"
    assert sealed.version == 1
    stored = sealed.to_bytes()
    assert primitives.algorithm_of(stored) == sealed.algorithm
    assert SealedKey.from_bytes(stored) == sealed
    assert open_data_key(stored, officer, tip_id=17, purpose="content") == data_key
    with pytest.raises(SealedKeyMismatch):
        open_data_key(sealed, officer, tip_id=18, purpose="content")
    with pytest.raises(SealedKeyMismatch):
        open_data_key(sealed, officer, tip_id=17, purpose="identity")
    with pytest.raises(SealedKeyMismatch):
        open_data_key(sealed, primitives.new_key_pair(), tip_id=17, purpose="content")
    for index in range(len(stored) - len(sealed.ciphertext), len(stored), 7):
        with pytest.raises(SealedKeyMismatch):
            open_data_key(_flip(stored, index), officer, tip_id=17, purpose="content")
    # Another format version is refused rather than opened under other rules.
    with pytest.raises(SealedKeyMismatch):
        open_data_key(
            SealedKey(sealed.algorithm, 2, sealed.ciphertext), officer, tip_id=17, purpose="content"
        )


def test_fingerprint_is_sha256_of_the_raw_public_key_in_groups() -> None:
    import hashlib

    key = primitives.new_key_pair()
    digest = primitives.fingerprint(key.public_key())
    assert digest == hashlib.sha256(primitives.public_bytes(key)).hexdigest()
    shown = primitives.format_fingerprint(digest)
    assert len(shown.split(" ")) == 16 and shown.replace(" ", "") == digest


def test_escrow_pem_round_trip() -> None:
    key = primitives.new_key_pair()
    pem = primitives.private_key_pem(key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert primitives.public_bytes(primitives.private_key_from_pem(pem)) == primitives.public_bytes(
        key
    )
