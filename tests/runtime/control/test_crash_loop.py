"""An app whose process starts a helper process and crashes, again at every restart, until its
supervisor gives up: the node reaps the helpers it never waited for, and `status` says the app
gave up while `ping` still answers."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import DEMO_APP, Script, build_tree

CRASHER = '''"""Starts a helper process, never waits for it, and crashes on its first message."""

import os

import primes_runtime


def start_link():
    return primes_runtime.start_server("demo_app.counter", 0, name="counter")


def init(args):
    os.posix_spawn("/bin/true", ["true"], dict(os.environ))
    primes_runtime.send(primes_runtime.self_pid(), "crash")
    return args


def handle_call(request, caller, state):
    return primes_runtime.server.Reply(state, state)


def handle_info(msg, state):
    raise RuntimeError("the helper went wrong")
'''


@pytest.fixture
def looping(tmp_path: Path) -> Iterator[Script]:
    """A node whose demo app crash-loops (3 restarts in 5 s allowed) and then gives up."""
    script = Script(
        build_tree(tmp_path / "srv" / "primenode", app={**DEMO_APP, "demo_app/counter.py": CRASHER})
    )
    script.ok("start")
    try:
        yield script
    finally:
        script.run("stop")


def zombies_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if fields[0] == "Z" and int(fields[1]) == pid:
                found.append(int(entry))
    return found


def test_a_crash_loop_leaves_no_zombies_and_status_says_the_app_gave_up_while_ping_answers(
    looping: Script,
) -> None:
    pid = int(looping.ok("pid"))
    deadline = time.monotonic() + 10
    while "failed" not in looping.ok("status"):
        assert time.monotonic() < deadline, "the supervisor never gave up"
        time.sleep(0.1)
    assert looping.ok("ping") == "pong\n"
    text = looping.ok("status")
    assert "failed:   application demo_app gave up and is not running: supervisor" in text
    data = json.loads(looping.ok("status", "--json"))
    [failed] = data["failed_applications"]
    assert failed["name"] == "demo_app" and "gave up: more than" in failed["reason"]
    deadline = time.monotonic() + 10  # the grace period (5 s) and the next look (1 s)
    while zombies := zombies_of(pid):
        assert time.monotonic() < deadline, f"zombies of the node: {zombies}"
        time.sleep(0.2)
    assert "reaped" in (looping.root / "log" / "node.log").read_text()
