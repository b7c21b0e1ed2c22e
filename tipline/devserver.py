"""A server in a subprocess, for the benchmarks and the tests (stdlib only).

Start a command whose output goes to a log file, poll ``GET /health`` until it answers
200, the process exits, or a timeout passes; stop it again (terminate, wait, kill).
Nothing in the service imports this module.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

START_TIMEOUT_SECONDS = 60.0


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on (at the moment of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(base_url: str) -> bool:
    """Whether ``GET {base_url}/health`` answers 200 (within 2 s)."""
    try:
        # Only ever an http:// URL of a server this module's caller started.
        with urllib.request.urlopen(f"{base_url}/health", timeout=2) as answer:  # noqa: S310
            return bool(answer.status == 200)
    except OSError:
        return False


def read_log(*paths: Path) -> str:
    """The text of the log files that exist, one after the other."""
    return "".join(path.read_text(errors="replace") for path in paths if path.exists())


def wait_until_healthy(
    process: subprocess.Popen[bytes],
    base_url: str,
    *,
    log: Callable[[], str],
    name: str = "tipline serve",
    timeout: float = START_TIMEOUT_SECONDS,
    interval: float = 0.2,
    error: Callable[[str], BaseException] = AssertionError,
    stop_timeout: float = 20,
) -> None:
    """Return once ``/health`` answers 200. Raise ``error(message)`` with the log if the
    process exits first, or after ``timeout`` seconds (the process stopped then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise error(f"{name} exited {process.returncode} at start:\n{log()}")
        if healthy(base_url):
            return
        time.sleep(interval)
    stop(process, timeout=stop_timeout)
    raise error(f"{name} did not answer /health within {timeout:g} s:\n{log()}")


def start(
    command: Sequence[str],
    base_url: str,
    log_path: Path,
    *,
    env: Mapping[str, str],
    cwd: Path,
    append_log: bool = False,
    name: str = "tipline serve",
    timeout: float = START_TIMEOUT_SECONDS,
    interval: float = 0.2,
    error: Callable[[str], BaseException] = AssertionError,
    stop_timeout: float = 20,
) -> subprocess.Popen[bytes]:
    """Run ``command`` (stdout and stderr to ``log_path``, overwritten unless
    ``append_log``) and wait until it is healthy (:func:`wait_until_healthy`)."""
    with log_path.open("ab" if append_log else "wb") as out:
        process = subprocess.Popen(  # noqa: S603 (the caller's own command)
            list(command),
            env=dict(env),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    wait_until_healthy(
        process,
        base_url,
        log=lambda: read_log(log_path),
        name=name,
        timeout=timeout,
        interval=interval,
        error=error,
        stop_timeout=stop_timeout,
    )
    return process


def stop(process: subprocess.Popen[bytes] | None, *, timeout: float = 20) -> None:
    """Terminate a running process; kill it if it has not ended after ``timeout`` s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
