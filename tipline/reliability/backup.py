"""``tipline backup`` and ``tipline restore``: one file, encrypted to the escrow key
and signed, holding a consistent copy of the database and the data dir's key files.

Why it is built this way: a backup is a copy of every tip, so it must be no easier
to read than the database (《数据安全法》 Art. 27, 《个人信息保护法》 Art. 51: encryption
and backup of important data). It is sealed to the offline escrow public key, the
key that already opens every tip, so whoever restores needs the escrow private key
from the safe, and a stolen backup without it is noise. It is signed with an
Ed25519 key kept in the data dir (like the ledger's checkpoint key), so a restore
refuses a file that was altered or made by someone else.

The copy is consistent without stopping the service: SQLite's online backup API
(into memory, then serialized: no plaintext temporary file), ``pg_dump`` (one
snapshot) on PostgreSQL. The key files go with it because tipsters' receipts
(``receipt.key``), the ledger's signatures (``ledger-checkpoint.key``) and the
backups' own signatures depend on them.

File layout (all lengths big-endian)::

    MAGIC | u32 n | manifest (n bytes, JSON) | u32 k | sealed data key (k bytes)
          | u64 m | ciphertext (m bytes) | Ed25519 signature (64 bytes) over all before

The sealed key is HPKE to the escrow key; the ciphertext is the tar of the payload
under that data key, its context bound to the manifest's SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import struct
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tipline.crypto import primitives
from tipline.crypto.exceptions import DecryptionFailed
from tipline.errors import Conflict, Invalid
from tipline.settings import Settings

MAGIC: Final = b"TIPLINE-BACKUP\x00v1\n"
FORMAT: Final = 1
SIGNING_KEY_FILE: Final = "backup-signing.key"
SIGNATURE_BYTES: Final = 64
# Files of the data dir that go into a backup: its secrets and keys (never the
# SQLite files, which come from the online backup, nor drop folders or logs).
KEY_FILE_SUFFIXES: Final = (".key", ".pem")
_SEAL_TIP_ID: Final = "backup"
_SEAL_PURPOSE: Final = "backup"


class BackupRefused(Invalid):
    """The file is not a tipline backup, was altered, or the key does not open it."""

    message_key = "reliability.error.backup_invalid"


class RestoreTargetNotEmpty(Conflict):
    """A restore goes only into an empty data dir and an empty database."""

    message_key = "reliability.error.restore_not_empty"


class NoEscrowKey(Conflict):
    message_key = "reliability.error.no_escrow_key"


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size: int
    database: str
    files: list[str]
    escrow_fingerprint: str
    signing_fingerprint: str


@dataclass(frozen=True)
class RestoreInfo:
    database: str
    files: list[str]
    created_at: str
    signing_fingerprint: str


def _signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The Ed25519 seed in ``<data_dir>/backup-signing.key`` (mode 0600, made on first use)."""
    path = Path(settings.data_dir) / SIGNING_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(path.read_text().strip()))


def _public_hex(key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def signing_fingerprint(public_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()


def _key_files(settings: Settings) -> list[Path]:
    folder = Path(settings.data_dir)
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and path.name.endswith(KEY_FILE_SUFFIXES)
    )


def _sqlite_copy(path: Path) -> bytes:
    """A consistent copy through SQLite's online backup API, kept in memory."""
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(":memory:")
    try:
        source.backup(target)
        return _rollback_journal_image(target.serialize())
    finally:
        target.close()
        source.close()


def _rollback_journal_image(image: bytes) -> bytes:
    """The image with its header saying "rollback journal" (bytes 18-19 = 1) instead of
    WAL (2): SQLite cannot open a WAL-mode image in memory. The restore turns WAL on
    again in the file it writes."""
    patched = bytearray(image)
    if len(patched) >= 20:
        patched[18] = patched[19] = 1
    return bytes(patched)


def _pg_bin(name: str) -> str:
    """A PostgreSQL client program: on PATH, or in Debian's versioned folders."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    raise FileNotFoundError(f"{name} not found: install the PostgreSQL client programs")


def _pg_dump(database_url: str) -> bytes:
    # The program is PostgreSQL's own and the only argument from outside is the
    # operator's configured database URL, passed as one argv item (no shell).
    result = subprocess.run(  # noqa: S603
        [_pg_bin("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", database_url],
        capture_output=True,
        check=False,
        timeout=3600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _untar(data: bytes) -> dict[str, bytes]:
    members: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as archive:
        for info in archive.getmembers():
            name = info.name
            if not info.isfile() or "/" in name.removeprefix("keys/") or ".." in name:
                raise BackupRefused()
            extracted = archive.extractfile(info)
            assert extracted is not None
            members[name] = extracted.read()
    return members


async def make_backup(settings: Settings, out: Path) -> BackupInfo:
    """Write the backup of the running installation to ``out`` (never over a file)."""
    from tipline.crypto.services import active_escrow_key

    escrow = await active_escrow_key()
    if escrow is None:
        raise NoEscrowKey()
    signer = _signing_key(settings)
    if settings.is_sqlite:
        database_kind, database = "sqlite", _sqlite_copy(settings.sqlite_path)
    else:
        assert settings.database_url is not None
        database_kind, database = "postgres", _pg_dump(settings.database_url)
    members = {f"database.{database_kind}": database}
    for path in _key_files(settings):
        members[f"keys/{path.name}"] = path.read_bytes()
    payload = _tar(members)
    public_hex = _public_hex(signer.public_key())
    manifest = {
        "format": FORMAT,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "database": database_kind,
        "files": sorted(name.removeprefix("keys/") for name in members if name.startswith("keys/")),
        "escrow_fingerprint": escrow["fingerprint"],
        "signing_public_key": public_hex,
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True).encode()
    data_key = primitives.new_data_key()
    sealed = primitives.seal_data_key(
        data_key,
        primitives.public_key_from_bytes(bytes.fromhex(escrow["public_key"])),
        tip_id=_SEAL_TIP_ID,
        purpose=_SEAL_PURPOSE,
    ).to_bytes()
    ciphertext = primitives.encrypt_content(data_key, payload, context=_context(manifest_bytes))
    body = b"".join(
        [
            MAGIC,
            struct.pack(">I", len(manifest_bytes)),
            manifest_bytes,
            struct.pack(">I", len(sealed)),
            sealed,
            struct.pack(">Q", len(ciphertext)),
            ciphertext,
        ]
    )
    signature = signer.sign(body)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(body + signature)
        handle.flush()
        os.fsync(handle.fileno())
    return BackupInfo(
        path=out,
        size=len(body) + len(signature),
        database=database_kind,
        files=list(manifest["files"]),
        escrow_fingerprint=escrow["fingerprint"],
        signing_fingerprint=signing_fingerprint(public_hex),
    )


def _context(manifest_bytes: bytes) -> bytes:
    return primitives.content_context(
        "backup", "b" + hashlib.sha256(manifest_bytes).hexdigest()[:30]
    )


def read_backup(
    data: bytes, escrow_key: X25519PrivateKey, *, signing_public_key: str | None = None
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and the payload's members, after checking the signature (against
    ``signing_public_key`` when given, else the key the file names) and decrypting."""
    try:
        if not data.startswith(MAGIC) or len(data) < len(MAGIC) + SIGNATURE_BYTES:
            raise ValueError("not a backup")
        body, signature = data[:-SIGNATURE_BYTES], data[-SIGNATURE_BYTES:]
        offset = len(MAGIC)
        (n,) = struct.unpack_from(">I", body, offset)
        offset += 4
        manifest_bytes = body[offset : offset + n]
        offset += n
        (k,) = struct.unpack_from(">I", body, offset)
        offset += 4
        sealed = body[offset : offset + k]
        offset += k
        (m,) = struct.unpack_from(">Q", body, offset)
        offset += 8
        ciphertext = body[offset : offset + m]
        if offset + m != len(body):
            raise ValueError("trailing or missing bytes")
        manifest = json.loads(manifest_bytes)
        public_hex = signing_public_key or manifest["signing_public_key"]
        if public_hex != manifest["signing_public_key"]:
            raise ValueError("signed by another key")
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(signature, body)
        data_key = primitives.open_data_key(
            sealed, escrow_key, tip_id=_SEAL_TIP_ID, purpose=_SEAL_PURPOSE
        )
        payload = primitives.decrypt_content(data_key, ciphertext, context=_context(manifest_bytes))
    except (ValueError, KeyError, struct.error, InvalidSignature, DecryptionFailed) as error:
        raise BackupRefused() from error
    return manifest, _untar(payload)


def _data_dir_empty(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


async def _postgres_empty(database_url: str) -> bool:
    import asyncpg

    connection = await asyncpg.connect(database_url)
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
    finally:
        await connection.close()
    return int(count) == 0


async def restore_backup(
    settings: Settings,
    data: bytes,
    escrow_key: X25519PrivateKey,
    *,
    signing_public_key: str | None = None,
) -> RestoreInfo:
    """Restore into an empty data dir and an empty database (refuses anything else)."""
    manifest, members = read_backup(data, escrow_key, signing_public_key=signing_public_key)
    folder = Path(settings.data_dir)
    database_kind = "sqlite" if settings.is_sqlite else "postgres"
    if manifest["database"] != database_kind:
        raise BackupRefused()
    if not _data_dir_empty(folder):
        raise RestoreTargetNotEmpty()
    if settings.is_sqlite:
        if settings.sqlite_path.exists():
            raise RestoreTargetNotEmpty()
    else:
        assert settings.database_url is not None
        if not await _postgres_empty(settings.database_url):
            raise RestoreTargetNotEmpty()
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    for name, content in members.items():
        if name.startswith("keys/"):
            path = folder / name.removeprefix("keys/")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
    database = members[f"database.{database_kind}"]
    if settings.is_sqlite:
        _restore_sqlite(settings.sqlite_path, database)
    else:
        assert settings.database_url is not None
        _restore_postgres(settings.database_url, database)
    return RestoreInfo(
        database=database_kind,
        files=sorted(n.removeprefix("keys/") for n in members if n.startswith("keys/")),
        created_at=str(manifest["created_at"]),
        signing_fingerprint=signing_fingerprint(manifest["signing_public_key"]),
    )


def _restore_sqlite(path: Path, image: bytes) -> None:
    """The copy goes in through the backup API too, so the file is written by SQLite
    (synchronously, WAL on) rather than as raw bytes."""
    source = sqlite3.connect(":memory:")
    path.parent.mkdir(parents=True, exist_ok=True)
    target = sqlite3.connect(path)
    try:
        source.deserialize(_rollback_journal_image(image))
        if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupRefused()
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    finally:
        target.close()
        source.close()


def _restore_postgres(database_url: str, dump: bytes) -> None:
    result = subprocess.run(  # noqa: S603 (as in _pg_dump)
        [
            _pg_bin("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            database_url,
        ],
        input=dump,
        capture_output=True,
        check=False,
        timeout=3600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"pg_restore failed: {result.stderr.decode(errors='replace').strip()}")
