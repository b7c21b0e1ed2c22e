"""``tipline orgunits import|export`` as an operator runs them."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli
from tests.tipline.orgunits.samples import (
    BASE,
    CHINESE_HEADER,
    COUNTY,
    TOWN_A,
    csv_bytes,
    xlsx_bytes,
)
from tipline.settings import Settings


def test_import_then_reimport_then_export_round_trip(settings: Settings, tmp_path: Path) -> None:
    assert run_cli(settings, "migrate").returncode == 0
    source = tmp_path / "单位.xlsx"
    source.write_bytes(xlsx_bytes(BASE))
    first = run_cli(settings, "orgunits", "import", str(source), process=True)
    assert first.returncode == 0, first.stderr
    assert f"{len(BASE)} created, 0 updated, 0 unchanged" in first.stdout
    again = run_cli(settings, "orgunits", "import", str(source))
    assert f"0 created, 0 updated, {len(BASE)} unchanged" in again.stdout
    for name in ("export.xlsx", "export.csv"):
        exported = tmp_path / name
        result = run_cli(settings, "orgunits", "export", str(exported))
        assert result.returncode == 0, result.stderr
        assert f"{len(BASE)} org units written" in result.stdout
        reimport = run_cli(settings, "orgunits", "import", str(exported))
        assert f"0 created, 0 updated, {len(BASE)} unchanged" in reimport.stdout
    assert exported.read_bytes().startswith(b"\xef\xbb\xbfcode,name,kind,parent_code")
    verify = run_cli(settings, "ledger", "verify")
    assert f"{len(BASE) + 1} events verified" in verify.stdout


def test_a_bad_file_lists_every_problem_and_writes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    assert run_cli(settings, "migrate").returncode == 0
    rows = [
        [COUNTY, "示范县", "县", ""],
        [TOWN_A, "青山镇", "镇", COUNTY],
        ["", "无名村", "村", TOWN_A],
        ["610000101201", "错村", "城市", TOWN_A],
    ]
    source = tmp_path / "bad.csv"
    source.write_bytes(csv_bytes(rows, CHINESE_HEADER, encoding="gb18030"))
    result = run_cli(settings, "orgunits", "import", str(source))
    assert result.returncode == 2
    assert "2 个问题" in result.stderr
    assert "第 4 行“代码”列" in result.stderr
    assert "第 5 行“类型”列" in result.stderr and "城市" in result.stderr
    export = run_cli(settings, "orgunits", "export", str(tmp_path / "after.csv"))
    assert "0 org units written" in export.stdout


def test_import_refuses_missing_unsupported_and_unmigrated(
    unmigrated_settings: Settings, tmp_path: Path
) -> None:
    settings = unmigrated_settings
    source = tmp_path / "units.csv"
    source.write_bytes(csv_bytes(BASE))
    unmigrated = run_cli(settings, "orgunits", "import", str(source))
    assert unmigrated.returncode == 2 and "tipline migrate" in unmigrated.stderr
    missing = run_cli(settings, "orgunits", "import", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    old = tmp_path / "units.xls"
    old.write_bytes(b"old")
    unsupported = run_cli(settings, "orgunits", "import", str(old))
    assert unsupported.returncode == 2 and ".xlsx" in unsupported.stderr
    assert run_cli(settings, "orgunits", "export", str(tmp_path / "x.txt")).returncode == 2


def test_orgunits_commands_have_help(settings: Settings) -> None:
    for args in (("orgunits", "--help"), ("orgunits", "import", "--help"), ("demo", "--help")):
        result = run_cli(settings, *args)
        assert result.returncode == 0 and "usage:" in result.stdout
