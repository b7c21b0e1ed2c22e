"""What the key rules refuse; each maps to a 4xx with a message in both languages.

Decryption errors say only that something did not open, never why in detail: a
wrong key, a wrong tip or purpose and an altered ciphertext look the same.
"""

from __future__ import annotations

from tipline.errors import Conflict, DomainError, Forbidden, NotFound


class DecryptionFailed(DomainError):
    """A ciphertext did not authenticate: wrong key, wrong context, or altered."""

    status_code = 422
    message_key = "crypto.error.decryption_failed"


class SealedKeyMismatch(DecryptionFailed):
    """A sealed data key does not open for this tip, purpose or private key."""

    message_key = "crypto.error.sealed_key_mismatch"


class StreamCorrupted(DecryptionFailed):
    """A chunk of a streamed ciphertext was altered, dropped or moved."""

    message_key = "crypto.error.stream_corrupted"


class StreamTruncated(StreamCorrupted):
    """A streamed ciphertext ends before its final chunk."""

    message_key = "crypto.error.stream_truncated"


class UnknownAlgorithm(DecryptionFailed):
    """A ciphertext names an algorithm (or parameters) this version cannot use."""

    message_key = "crypto.error.unknown_algorithm"


class InvalidKey(DecryptionFailed):
    """Bytes that are not a key of the expected kind and size."""

    message_key = "crypto.error.invalid_key"


class OfficerKeyNotFound(NotFound):
    message_key = "crypto.error.officer_key_not_found"


class OfficerKeyExists(Conflict):
    message_key = "crypto.error.officer_key_exists"


class WrongKeyPassword(Forbidden):
    """The password does not unwrap the officer's private key."""

    message_key = "crypto.error.wrong_key_password"


class SessionKeyUnavailable(Forbidden):
    """This session holds no unlocked key (signed in elsewhere, expired, or wrong cookie)."""

    message_key = "crypto.error.session_key_unavailable"


class EscrowKeyExists(Conflict):
    message_key = "crypto.error.escrow_key_exists"


class EscrowKeyMissing(NotFound):
    message_key = "crypto.error.escrow_key_missing"


class KeyFileExists(Conflict):
    """escrow-init never overwrites a file: it may hold the only copy of a private key."""

    message_key = "crypto.error.key_file_exists"


class OfficerKeyChanged(Conflict):
    """The key was re-wrapped or replaced between reading and writing it: try again."""

    message_key = "crypto.error.officer_key_changed"
