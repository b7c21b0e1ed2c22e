"""All configuration of tipline, read once from ``TIPLINE_*`` environment variables.

One object, built by :func:`Settings.from_env`, is handed to ``create_app`` and to
the command line. A malformed value stops start-up with :class:`SettingsError`
naming the variable, so an operator never runs a county on a half-understood
configuration.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

LOCALES = ("zh-CN", "en")


class SettingsError(ValueError):
    """A ``TIPLINE_*`` variable has a value tipline cannot use."""


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r}: expected one of 1/0, true/false, yes/no, on/off")


def _parse_positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a whole number") from None
    if value <= 0:
        raise SettingsError(f"{name}={raw!r}: expected a number greater than 0")
    return value


def _parse_database_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme in ("postgresql", "postgres") and parts.hostname:
        return raw
    if parts.scheme == "sqlite" and parts.path:
        return raw
    raise SettingsError(
        f"{name}={raw!r}: expected postgresql://user@host:port/database "
        "or sqlite:///path/to/file.sqlite"
    )


def _parse_base_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name}={raw!r}: expected an http:// or https:// address")
    return raw.rstrip("/")


def _parse_locale(name: str, raw: str) -> str:
    if raw not in LOCALES:
        raise SettingsError(f"{name}={raw!r}: expected one of {', '.join(LOCALES)}")
    return raw


def _parse_path(name: str, raw: str) -> Path:
    if not raw.strip():
        raise SettingsError(f"{name} is empty: expected a folder path")
    return Path(raw).expanduser()


def _parse_str(name: str, raw: str) -> str:
    return raw


def _parse_province(name: str, raw: str) -> str:
    code = raw.strip().lower()
    if not code.isascii() or not code.isalpha():
        raise SettingsError(f"{name}={raw!r}: expected a province code such as hunan")
    return code


def _parse_origin(name: str, raw: str) -> str:
    if not raw or any(ch.isspace() for ch in raw) or "+" in raw:
        raise SettingsError(f"{name}={raw!r}: expected one word without spaces or '+'")
    return raw


@dataclasses.dataclass(frozen=True)
class Settings:
    """The service's configuration; every field has a ``TIPLINE_<FIELD>`` variable."""

    data_dir: Path = Path("var")
    database_url: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    default_locale: str = "zh-CN"
    secure_cookies: bool = True
    scheduler: bool = True
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    login_throttle_base_seconds: int = 1
    password_hash_concurrency: int = 1
    county_name: str = "示范县"
    # Whose village-affairs thresholds apply (villageaffairs/provinces.json); a code without
    # a profile there is refused when the service or a command starts.
    province: str = "hunan"
    max_attachment_bytes: int = 20 * 1024 * 1024
    max_tip_attachments_bytes: int = 50 * 1024 * 1024
    # Submissions per client address (in-memory keyed hash, see intake/ratelimit.py). Off
    # only for a load test from one address (bench/submit.py); wrong receipts stay limited.
    tipster_rate_limit: bool = True
    # Signed Merkle checkpoints of the ledger (ledger/checkpoints.py): one after this many
    # new events, or this many minutes after the last when any event is new; the drop
    # folder (default <data_dir>/checkpoints) is where copies leave the server.
    checkpoint_every_events: int = 100
    checkpoint_minutes: int = 10
    checkpoint_drop_dir: Path | None = None
    # The checkpoints' origin line and key name; default "<host of base_url>/tipline/custody".
    ledger_origin: str = ""
    # The TTF/TTC font for Chinese in generated PDFs (transfer packages); default: WenQuanYi
    # Micro Hei found by fc-match (Debian package fonts-wqy-microhei).
    pdf_font: Path | None = None
    # E-mail notifications (notifications/): off while smtp_host or smtp_from is empty.
    # Port 587 with STARTTLS by default; smtp_starttls=0 for a relay on the local network.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = dataclasses.field(default="", repr=False)
    smtp_from: str = ""
    smtp_starttls: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every ``TIPLINE_*`` variable; unknown ones are refused so typos show."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        known = {f"TIPLINE_{field.name.upper()}": field.name for field in dataclasses.fields(cls)}
        for name in env:
            if name.startswith("TIPLINE_") and name not in known and name not in _NOT_SETTINGS:
                raise SettingsError(f"{name}: unknown setting (known: {', '.join(sorted(known))})")
        for variable, field_name in known.items():
            if variable in env:
                values[field_name] = _PARSERS[field_name](variable, env[variable])
        return cls(**values)

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host and self.smtp_from)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url is None or self.database_url.startswith("sqlite:")

    @property
    def sqlite_path(self) -> Path:
        """The SQLite file: from ``sqlite:///...`` or ``<data_dir>/tipline.sqlite``."""
        if self.database_url is None:
            return self.data_dir / "tipline.sqlite"
        # As in SQLAlchemy: sqlite:///relative/file, sqlite:////absolute/file.
        return Path(urlsplit(self.database_url).path[1:])


_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "data_dir": _parse_path,
    "database_url": _parse_database_url,
    "base_url": _parse_base_url,
    "default_locale": _parse_locale,
    "secure_cookies": _parse_bool,
    "scheduler": _parse_bool,
    "session_idle_minutes": _parse_positive_int,
    "session_max_hours": _parse_positive_int,
    "login_throttle_base_seconds": _parse_positive_int,
    "password_hash_concurrency": _parse_positive_int,
    "county_name": _parse_str,
    "province": _parse_province,
    "max_attachment_bytes": _parse_positive_int,
    "max_tip_attachments_bytes": _parse_positive_int,
    "tipster_rate_limit": _parse_bool,
    "checkpoint_every_events": _parse_positive_int,
    "checkpoint_minutes": _parse_positive_int,
    "checkpoint_drop_dir": _parse_path,
    "ledger_origin": _parse_origin,
    "pdf_font": _parse_path,
    "smtp_host": _parse_str,
    "smtp_port": _parse_positive_int,
    "smtp_user": _parse_str,
    "smtp_password": _parse_str,
    "smtp_from": _parse_str,
    "smtp_starttls": _parse_bool,
}

# Variables with the prefix that configure the test suite, not the service.
_NOT_SETTINGS = frozenset(
    {
        "TIPLINE_TEST_POSTGRES",
        "TIPLINE_TEST_REQUIRE_ALL",
        "TIPLINE_TEST_CHROMIUM",
        "TIPLINE_TEST_TODAY",
        # Test-only fault switches, refused without TIPLINE_TESTING (tipline/faults.py).
        "TIPLINE_TESTING",
        "TIPLINE_FAULT_ACK_BEFORE_COMMIT",
    }
)
