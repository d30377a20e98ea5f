"""Faults that once printed tracebacks print one line; logs are bounded and private
(issue 15 item 10), all through the real bin/primenode."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Script, build_tree

SYSTEM_PYTHON = "/usr/bin/python3"
RUNUSER = shutil.which("runuser") or "runuser"
needs_nobody = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runuser") is None or not os.access(SYSTEM_PYTHON, os.X_OK),
    reason="needs root, runuser and a system Python another user can run",
)


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[Script]:
    """A tree in a directory every user may enter (pytest's tmp_path is root's alone)."""
    base = Path(tempfile.mkdtemp(prefix="primes-shared-", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield Script(build_tree(base / "primenode"))
    finally:
        Script(base / "primenode").run("stop")
        for _ in range(50):  # the stopped node may still write a module's bytecode as it exits
            try:
                shutil.rmtree(base)
                break
            except OSError:
                threading.Event().wait(0.1)


def as_nobody(script: Script, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RUNUSER, "-u", "nobody", "--", str(script.path), *args],
        cwd="/",
        env={"PATH": "/usr/bin:/bin", "PRIMES_PYTHON": SYSTEM_PYTHON},
        capture_output=True,
        text=True,
        timeout=60,
    )


@needs_nobody
@pytest.mark.parametrize("command", ["ping", "status", "stop", "eval"])
def test_another_user_gets_one_line_about_permissions(shared: Script, command: str) -> None:
    shared.ok("start")
    args = [command, "1"] if command == "eval" else [command]
    result = as_nobody(shared, *args)
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"primenode: permission denied on {shared.root}/run/node.sock: "
        "run this as the user that owns the node"
    )
    assert shared.ok("ping") == "pong\n"


@needs_nobody
def test_another_user_cannot_start_a_second_node_and_gets_one_line(shared: Script) -> None:
    shared.ok("start")
    result = as_nobody(shared, "start")
    assert result.returncode == 1
    assert one_line(result.stderr).startswith("primenode: ")
    assert shared.ok("ping") == "pong\n"


@needs_nobody
def test_a_log_dir_that_is_not_writable_at_start_is_one_line(shared: Script) -> None:
    subprocess.run(["chown", "-R", "nobody", str(shared.root)], check=True)
    (shared.root / "log").mkdir(mode=0o555)
    result = as_nobody(shared, "start")
    assert result.returncode == 1
    log_dir = shared.root / "log"
    assert one_line(result.stderr) == (
        f"primenode: cannot write {log_dir}/console.log: Permission denied; "
        f"make {log_dir} writable by this user"
    )
    assert as_nobody(shared, "ping").returncode == 3


def test_a_node_log_the_node_cannot_open_fails_start_with_one_line(script: Script) -> None:
    (script.root / "log" / "node.log").mkdir(parents=True)
    result = script.run("start")
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert line.startswith("primenode: the node exited during start (status 1): ")
    assert f"cannot write {script.root}/log/node.log: Is a directory" in line


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_under_umask_000_logs_run_files_and_cookie_are_private(script: Script) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PRIMES_COOKIE"}
    env["PRIMES_PYTHON"] = sys.executable
    subprocess.run(
        ["sh", "-c", 'umask 000; exec "$0" start', str(script.path)], env=env, check=True
    )
    try:
        script.ok("eval", "import logging; logging.getLogger('t').warning('hello')")
        root = script.root
        for path in [
            root / "log", root / "log" / "node.log", root / "log" / "console.log",
            root / "run", root / "run" / "node.pid", root / "run" / "cookie",
            root / "run" / "node.sock", root / ".node.lock",
        ]:  # fmt: skip
            assert private(path), (path, oct(path.stat().st_mode))
    finally:
        script.run("stop")


def test_console_log_is_rotated_when_it_grows_past_log_max_bytes(script: Script) -> None:
    toml = script.root / "releases" / "1" / "node.toml"
    toml.write_text(toml.read_text() + "log_max_bytes = 4096\n")
    script.ok("start")
    try:
        script.ok("eval", "import os; os.write(1, b'x' * 20000 + b'\\n')")
        log = script.root / "log" / "console.log"
        deadline = time.monotonic() + 20
        while log.stat().st_size > 4096:
            assert time.monotonic() < deadline, "console.log was never rotated"
            time.sleep(0.1)
        assert (script.root / "log" / "console.log.1").stat().st_size > 20000
        assert private(script.root / "log" / "console.log.1")
        assert script.ok("ping") == "pong\n"
    finally:
        script.run("stop")
