"""A node the OS lets start no thread (every clone3 fails with EAGAIN, injected with strace, as
under memory pressure): commands are still served, an upgrade that needs a thread fails in one
line and rolls back, one that needs none stays installed, and `stop` stops the node."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Script, make_package
from .test_crash_release_ops import alive, end, started, traced, untraced

NO_THREADS = ["-o", "/dev/null", "-e", "trace=clone3", "-e", "inject=clone3:error=EAGAIN"]

UP_WITHOUT_CODE_CHANGE = """\
# demo 1 -> 2, new code for demo_api only
load_object_code {"app": "demo_app", "from_vsn": "1", "to_vsn": "2", "path": "lib/demo_app-2", \
"modules": ["demo_api"]}
point_of_no_return
switch_app_path {"app": "demo_app", "from_vsn": "1", "to_vsn": "2", "from_path": "lib/demo_app-1", \
"to_path": "lib/demo_app-2"}
load {"module": "demo_api"}
"""


@pytest.fixture
def strace() -> None:
    if shutil.which("strace") is None:
        pytest.skip("needs strace")


@pytest.fixture
def threadless(script: Script, strace: None) -> Iterator[tuple[Script, int]]:
    """The tree's node, started, then traced so that no thread of it can start another."""
    pid = started(script)
    tracer = traced(pid, NO_THREADS)
    try:
        yield script, pid
    finally:
        untraced(tracer)
        end(pid)


def assert_one_line(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def stops(node: Script, pid: int) -> None:
    """`stop` returns 0 and the node's process is gone."""
    result = node.run("stop", timeout=30)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert not alive(pid)


@pytest.mark.e2e
def test_an_upgrade_that_cannot_start_its_code_change_thread_fails_in_one_line_and_stop_works(
    threadless: tuple[Script, int], tmp_path: Path
) -> None:
    node, pid = threadless
    assert node.ok("rpc", "demo_api", "incr", timeout=30) == "1\n"
    result = node.run("upgrade", str(make_package(tmp_path)), timeout=60)
    assert_one_line(result)
    assert "cannot start the primes-code-change thread" in result.stderr
    assert "rolled back" in result.stderr, result.stderr
    assert node.ok("versions", timeout=30).splitlines()[0] == "1 permanent"
    assert node.ok("rpc", "demo_api", "incr", timeout=30) == "2\n"  # old code, state kept
    assert node.ok("ping", timeout=30) == "pong\n"
    stops(node, pid)


@pytest.mark.e2e
def test_an_upgrade_that_needs_no_thread_stays_installed_when_none_can_start(
    threadless: tuple[Script, int], tmp_path: Path
) -> None:
    node, pid = threadless
    package = make_package(tmp_path, scripts=(UP_WITHOUT_CODE_CHANGE, ""))
    result = node.run("upgrade", str(package), timeout=60)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    assert "2 permanent" in node.ok("versions", timeout=30).splitlines()
    assert node.ok("rpc", "demo_api", "version", timeout=30) == "two\n"
    stops(node, pid)


@pytest.mark.e2e
def test_stop_stops_a_node_that_can_start_no_thread(threadless: tuple[Script, int]) -> None:
    node, pid = threadless
    assert node.ok("ping", timeout=30) == "pong\n"
    stops(node, pid)


@pytest.mark.e2e
def test_sigterm_stops_the_apps_of_a_node_that_can_start_no_thread(
    threadless: tuple[Script, int],
) -> None:
    node, pid = threadless
    os.kill(pid, signal.SIGTERM)  # what systemd sends
    deadline = time.monotonic() + 15.0
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid)
    log = (node.root / "log" / "node.log").read_text()
    assert "application demo_app stopped" in log and "node testnode: stopped" in log, log
