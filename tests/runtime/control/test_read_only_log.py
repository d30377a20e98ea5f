"""log/ made read-only under a running node (the node runs without the capabilities that let
root write anywhere, as a node's own user would), and log/node.log replaced under it: the node
says so in a line or two, console.log keeps its limit, and the node serves on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Script

LIMIT = 20000
LOG_FROM_A_THREAD = """
import logging, threading
def chatter():
    for i in range(3000):
        logging.getLogger("demo").warning("record %d %s", i, "x" * 80)
worker = threading.Thread(target=chatter)
worker.start()
worker.join()
"""
LOG_HERE = "import logging\nfor i in range(500): logging.getLogger('demo').warning('here %d', i)"
AS_A_PLAIN_OWNER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


@pytest.fixture
def limited(script: Script) -> Iterator[Script]:
    """The node started with log_max_bytes = 20000 and without root's file capabilities."""
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux)")
    node_toml = script.root / "releases" / "1" / "node.toml"
    node_toml.write_text(node_toml.read_text() + f"log_max_bytes = {LIMIT}\n")
    env = {k: v for k, v in os.environ.items() if k != "PRIMES_COOKIE"}
    env.setdefault("PRIMES_PYTHON", sys.executable)
    argv = [*AS_A_PLAIN_OWNER, str(script.path), "start"]
    subprocess.run(argv, check=True, timeout=60, env=env, cwd=script.root.parent)
    try:
        yield script
    finally:
        log_dir = script.root / "log"
        log_dir.chmod(0o700)
        for path in log_dir.iterdir():
            path.chmod(0o600)
        script.run("stop")


def read_only(directory: Path) -> None:
    for path in directory.iterdir():
        path.chmod(0o555)
    directory.chmod(0o555)


@pytest.mark.e2e
def test_a_read_only_log_dir_costs_a_line_or_two_and_console_log_keeps_its_limit(
    limited: Script,
) -> None:
    node = limited
    log_dir = node.root / "log"
    read_only(log_dir)
    for _ in range(2):
        node.ok("eval", LOG_FROM_A_THREAD, timeout=60)
    node.ok("eval", "import time; time.sleep(2.5)", timeout=60)  # the watcher looks each second
    console = (log_dir / "console.log").read_text()
    assert len(console.encode()) < LIMIT, len(console)
    assert "Logging error" not in console and "Traceback" not in console, console[:2000]
    assert 1 <= len(console.splitlines()) <= 4, console
    assert "cannot rotate" in console, console
    assert (log_dir / "node.log").stat().st_size < 2 * LIMIT + 1000
    here = node.run("eval", LOG_HERE, timeout=60)
    assert here.returncode == 0 and here.stdout == here.stderr == "", here
    assert node.ok("ping") == "pong\n"


@pytest.mark.e2e
def test_a_node_log_replaced_under_the_node_is_written_again(limited: Script) -> None:
    node = limited
    path = node.root / "log" / "node.log"
    path.rename(path.with_name("node.log.old"))
    path.write_text("")
    node.ok("eval", "import logging; logging.getLogger('demo').warning('after the swap')")
    assert "after the swap" in path.read_text()
    path.unlink()
    node.ok("eval", "import logging; logging.getLogger('demo').warning('after the removal')")
    assert "after the removal" in path.read_text()
    assert node.ok("ping") == "pong\n"


@pytest.mark.e2e
def test_console_log_past_its_limit_in_a_read_only_log_dir_is_emptied_and_says_so(
    limited: Script,
) -> None:
    node = limited
    read_only(node.root / "log")
    node.ok("eval", f"import os; os.write(2, b'y' * {2 * LIMIT} + b'\\n')")
    node.ok("eval", "import time; time.sleep(2.5)", timeout=60)  # the watcher looks each second
    console = (node.root / "log" / "console.log").read_text()
    assert len(console) < LIMIT, len(console)
    assert "console.log passed its limit and cannot be rotated" in console, console[-500:]
    assert node.ok("ping") == "pong\n"
