"""Settings: sensible defaults, and a malformed variable stops start-up naming itself."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tipline.settings import _PARSERS, Settings, SettingsError


def _clean_env(**variables: str) -> dict[str, str]:
    """The test process's environment without any TIPLINE_* variable, plus ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(variables)
    return env


def _tipline(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tipline", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def test_defaults_use_a_sqlite_file_in_var() -> None:
    settings = Settings.from_env({})
    assert settings.database_url is None
    assert settings.is_sqlite
    assert settings.data_dir == Path("var")
    assert settings.sqlite_path == Path("var") / "tipline.sqlite"
    assert settings.default_locale == "zh-CN"
    assert settings.secure_cookies is True
    assert settings.scheduler is True


def test_data_dir_moves_the_sqlite_file(tmp_path: Path) -> None:
    settings = Settings.from_env({"TIPLINE_DATA_DIR": str(tmp_path / "county")})
    assert settings.is_sqlite
    assert settings.sqlite_path == tmp_path / "county" / "tipline.sqlite"


def test_values_are_parsed() -> None:
    settings = Settings.from_env(
        {
            "TIPLINE_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/tipline",
            "TIPLINE_BASE_URL": "https://tips.example.gov.cn/",
            "TIPLINE_DEFAULT_LOCALE": "en",
            "TIPLINE_SECURE_COOKIES": "off",
            "TIPLINE_SCHEDULER": "No",
            "TIPLINE_SESSION_IDLE_MINUTES": "15",
            "TIPLINE_COUNTY_NAME": "某县",
            # Test-suite variables share the prefix but are not settings.
            "TIPLINE_TEST_POSTGRES": "postgresql://x@y/z",
        }
    )
    assert not settings.is_sqlite
    assert settings.base_url == "https://tips.example.gov.cn"
    assert settings.default_locale == "en"
    assert settings.secure_cookies is False
    assert settings.scheduler is False
    assert settings.session_idle_minutes == 15
    assert settings.county_name == "某县"


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///relative/file.sqlite", Path("relative/file.sqlite")),
        ("sqlite:////abs/file.sqlite", Path("/abs/file.sqlite")),
    ],
)
def test_sqlite_url_names_the_file(url: str, path: Path) -> None:
    settings = Settings.from_env({"TIPLINE_DATABASE_URL": url})
    assert settings.is_sqlite
    assert settings.sqlite_path == path


def test_every_setting_has_a_parser() -> None:
    assert set(_PARSERS) == {field.name for field in dataclasses.fields(Settings)}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TIPLINE_SCHEDULER", "maybe"),
        ("TIPLINE_SECURE_COOKIES", "2"),
        ("TIPLINE_SESSION_IDLE_MINUTES", "half an hour"),
        ("TIPLINE_SESSION_MAX_HOURS", "0"),
        ("TIPLINE_LOGIN_THROTTLE_BASE_SECONDS", "-1"),
        ("TIPLINE_PASSWORD_HASH_CONCURRENCY", "1.5"),
        ("TIPLINE_DATABASE_URL", "mysql://root@localhost/tipline"),
        ("TIPLINE_DATABASE_URL", "postgresql:///no-host"),
        ("TIPLINE_DATABASE_URL", "sqlite://"),
        ("TIPLINE_BASE_URL", "tips.example.gov.cn"),
        ("TIPLINE_BASE_URL", "ftp://tips.example.gov.cn"),
        ("TIPLINE_DEFAULT_LOCALE", "fr"),
        ("TIPLINE_DEFAULT_LOCALE", "zh_CN"),
        ("TIPLINE_DATA_DIR", "  "),
    ],
)
def test_a_malformed_setting_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: value})
    assert variable in str(caught.value)
    assert repr(value) in str(caught.value) or variable == "TIPLINE_DATA_DIR"


def test_an_unknown_variable_is_refused_so_typos_show() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"TIPLINE_DATABSE_URL": "postgresql://postgres@127.0.0.1/x"})
    message = str(caught.value)
    assert "TIPLINE_DATABSE_URL" in message
    assert "unknown" in message
    assert "TIPLINE_DATABASE_URL" in message  # the list of known ones helps spot the typo


def test_cli_with_a_bad_setting_exits_2_naming_it(tmp_path: Path) -> None:
    env = _clean_env(TIPLINE_DATA_DIR=str(tmp_path / "data"), TIPLINE_SCHEDULER="maybe")
    result = _tipline("migrate", env=env, cwd=REPO_ROOT)
    assert result.returncode == 2, result.stderr
    assert "TIPLINE_SCHEDULER" in result.stderr
    assert "'maybe'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()


def test_serve_with_a_bad_setting_stops_at_once(tmp_path: Path) -> None:
    env = _clean_env(TIPLINE_DATA_DIR=str(tmp_path / "data"), TIPLINE_DEFAULT_LOCALE="fr")
    # A server that started would run until the timeout; a refusal returns at once.
    result = _tipline("serve", "--port", "1", env=env, cwd=REPO_ROOT, timeout=30)
    assert result.returncode == 2, result.stderr
    assert "TIPLINE_DEFAULT_LOCALE" in result.stderr
    assert "Traceback" not in result.stderr


def test_app_factory_refuses_a_bad_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """``uvicorn --factory tipline.app:create_app`` reads the environment too."""
    from tipline.app import create_app

    monkeypatch.setenv("TIPLINE_SESSION_IDLE_MINUTES", "never")
    with pytest.raises(SettingsError, match="TIPLINE_SESSION_IDLE_MINUTES"):
        create_app()


def test_default_database_is_a_sqlite_file_in_var_of_the_working_dir(tmp_path: Path) -> None:
    result = _tipline("migrate", env=_clean_env(), cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "tipline.sqlite").is_file()


def test_data_dir_setting_places_the_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "county-data"
    result = _tipline(
        "migrate", env=_clean_env(TIPLINE_DATA_DIR=str(data_dir)), cwd=tmp_path, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert (data_dir / "tipline.sqlite").is_file()
    assert not (tmp_path / "var").exists()


def test_an_unknown_province_is_refused_at_start_and_a_known_one_applies(tmp_path: Path) -> None:
    """A county outside every profile must not silently get Hunan's vote thresholds."""
    from tipline.app import create_app
    from villageaffairs.legal import province_profile

    unknown = Settings.from_env({"TIPLINE_DATA_DIR": str(tmp_path), "TIPLINE_PROVINCE": "atlantis"})
    with pytest.raises(SettingsError, match="TIPLINE_PROVINCE='atlantis'"):
        create_app(unknown)
    result = _tipline(
        "ledger", "verify", env=_clean_env() | {"TIPLINE_PROVINCE": "atlantis"}, cwd=tmp_path
    )
    assert result.returncode == 2 and "TIPLINE_PROVINCE='atlantis'" in result.stderr
    assert "Traceback" not in result.stderr
    try:
        create_app(Settings(data_dir=tmp_path, province="shaanxi", scheduler=False))
        assert province_profile().code == "shaanxi"
    finally:
        create_app(Settings(data_dir=tmp_path, scheduler=False))
    assert province_profile().code == "hunan"
