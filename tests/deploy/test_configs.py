"""The deployment files in ``deploy/`` are valid for the tools that read them.

nginx checks the site (TLS, HTTP/2, no access log for tipster routes) with ``nginx -t``
against a throw-away certificate; systemd checks the units with ``systemd-analyze
verify`` (or, without systemd, their required keys are read back); the compose file
parses with the services and settings the README promises; PostgreSQL commits
synchronously.
"""

from __future__ import annotations

import configparser
import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
TIPSTER_ROUTES = ("/tip", "/api/v1/tips", "/api/v1/tipster")


def _nginx() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(found).exists(), "nginx is needed (Debian: apt-get install nginx-light)"
    return found


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tips.example.gov.cn")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_the_nginx_sites_pass_nginx_t(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    sites = []
    for name in ("tipline.conf", "tipline-onion.conf"):
        text = (DEPLOY / "nginx" / name).read_text(encoding="utf-8")
        text = text.replace("/etc/ssl/tipline/fullchain.pem", str(cert))
        text = text.replace("/etc/ssl/tipline/privkey.pem", str(key))
        text = text.replace("/var/log/nginx/", f"{tmp_path}/")
        site = tmp_path / name
        site.write_text(text, encoding="utf-8")
        sites.append(f"include {site};")
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\nhttp {\n" + "\n".join(sites) + "\n}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [_nginx(), "-t", "-p", str(tmp_path), "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_the_site_logs_no_tipster_route_and_no_address() -> None:
    text = (DEPLOY / "nginx" / "tipline.conf").read_text(encoding="utf-8")
    assert "listen 443 ssl http2" in text
    for route in TIPSTER_ROUTES:
        block = re.search(r"location " + re.escape(route) + r" \{(.*?)\}", text, re.S)
        assert block is not None, route
        assert "access_log off;" in block.group(1)
    log_format = re.search(r"log_format tipline_noaddr (.*?);", text, re.S)
    assert log_format is not None
    assert "remote_addr" not in log_format.group(1)
    assert "http_user_agent" not in log_format.group(1)
    assert "X-Forwarded-For" not in text.replace("no X-Forwarded-For", "")
    assert "client_max_body_size" in text and "Strict-Transport-Security" in text


def _units() -> list[Path]:
    return sorted((DEPLOY / "systemd").iterdir())


def test_the_systemd_units_verify(tmp_path: Path) -> None:
    tipline = Path(sys.executable).with_name("tipline")
    copies = []
    for unit in _units():
        copy = tmp_path / unit.name
        copy.write_text(
            unit.read_text(encoding="utf-8").replace("/opt/tipline/venv/bin/tipline", str(tipline)),
            encoding="utf-8",
        )
        copies.append(copy)
        parsed = configparser.ConfigParser(strict=False, interpolation=None)
        parsed.optionxform = str  # type: ignore[assignment,method-assign]
        parsed.read(copy)
        assert parsed.has_section("Unit")
        if unit.suffix == ".service":
            assert parsed.get("Service", "ExecStart").strip()
            assert parsed.get("Service", "User") == "tipline"
        if unit.suffix == ".timer":
            assert parsed.get("Timer", "OnCalendar").strip()
    analyze = shutil.which("systemd-analyze")
    if analyze is not None:
        result = subprocess.run(
            [analyze, "verify", *map(str, copies)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
    names = {unit.name for unit in _units()}
    assert {"tipline.service", "tipline-backup.service", "tipline-backup.timer"} <= names


def test_the_compose_file_runs_the_web_service_on_postgresql() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"db", "web"}
    assert services["db"]["image"].startswith("docker.io/library/postgres:")
    assert services["web"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["web"]["environment"]["TIPLINE_DATABASE_URL"].startswith("postgresql://")
    assert "--workers 2" in " ".join(services["web"]["command"])
    assert (DEPLOY.parent / services["web"]["build"]["dockerfile"]).exists()
    for volume in services["db"]["volumes"]:
        source = volume.split(":", 1)[0]
        if source.startswith("./"):
            assert (DEPLOY / source).exists(), source
    containerfile = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    for source in re.findall(r"^COPY (\S+)", containerfile, re.M):
        assert (DEPLOY.parent / source).exists(), source


def test_postgresql_commits_synchronously() -> None:
    for name in ("tipline.conf", "compose-postgresql.conf"):
        settings = dict(
            re.findall(
                r"^(\w+)\s*=\s*'?([^'#\n]*?)'?\s*(?:#.*)?$",
                (DEPLOY / "postgresql" / name).read_text(encoding="utf-8"),
                re.M,
            )
        )
        assert settings["synchronous_commit"] == "on", name
        assert settings["fsync"] == "on", name
