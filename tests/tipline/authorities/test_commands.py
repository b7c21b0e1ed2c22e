"""``tipline authorities add`` and ``keygen`` as an operator and an authority run them."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli
from tipline.settings import Settings


def test_add_registers_an_authority_and_refuses_bad_input(
    settings: Settings, tmp_path: Path
) -> None:
    assert run_cli(settings, "migrate").returncode == 0
    key = tmp_path / "court.key"
    made = run_cli(settings, "authorities", "keygen", "--out", str(key), process=True)
    assert made.returncode == 0, made.stderr
    public = made.stdout.split("public key (register it in /admin/authorities): ")[1].split()[0]
    again = run_cli(settings, "authorities", "keygen", "--out", str(key))
    assert again.returncode == 2 and "exists" in again.stderr

    added = run_cli(
        settings, "authorities", "add", "示范县人民法院", "--kind", "court", "--public-key", public
    )
    assert added.returncode == 0, added.stderr
    assert "示范县人民法院 (court, key " in added.stdout
    twice = run_cli(settings, "authorities", "add", "示范县人民法院", "--kind", "court")
    assert twice.returncode == 2 and "exists already" in twice.stderr
    bad = run_cli(
        settings, "authorities", "add", "示范县公安局", "--kind", "court", "--public-key", "abc"
    )
    assert bad.returncode == 2 and "Invalid public key" in bad.stderr
    wrong_kind = run_cli(settings, "authorities", "add", "X", "--kind", "army")
    assert wrong_kind.returncode == 2
