"""Upgrading busy processes: callers see a pause, never an error, and no message is lost."""

from __future__ import annotations

import threading
from pathlib import Path

import primes_runtime
import pytest
from primes_runtime.behaviours import server
from primes_runtime.release import handler
from primes_runtime.release.reports import InstallFailed, InstallReport
from rt_fixtures.kernel import node_thread

from tests.runtime.release.deployed import deploy
from tests.runtime.release.servers import up_script

pytestmark = pytest.mark.usefixtures("node")


def test_messages_are_counted_across_an_upgrade_under_a_concurrent_sender(
    tmp_path: Path, mod: str
) -> None:
    node = deploy(tmp_path, mod, up_script(mod, extra="slow"))
    pids = [server.start(mod, f"p{i}") for i in range(3)]
    stop = threading.Event()
    sent = [0]
    errors: list[BaseException] = []
    versions_seen: list[object] = []

    def sender() -> None:  # casts numbered messages as fast as it can
        n = 0
        try:
            while not stop.is_set():
                for pid in pids:
                    primes_runtime.cast(pid, n)
                n += 1
                sent[0] = n
        except BaseException as exc:
            errors.append(exc)

    def caller() -> None:  # calls throughout: it may wait, but never gets an error
        i = 0
        try:
            while not stop.is_set():
                versions_seen.append(primes_runtime.call(pids[i % 3], "vsn", timeout=30.0))
                i += 1
            versions_seen.append(primes_runtime.call(pids[0], "vsn", timeout=30.0))
        except BaseException as exc:
            errors.append(exc)

    threads = [node_thread(target=sender), node_thread(target=caller)]
    for thread in threads:
        thread.start()
    try:
        while sent[0] < 1000 or not versions_seen:  # both are going
            threading.Event().wait(0.01)
        before = sent[0]
        report = handler.install(node, "2")
        during = sent[0] - before
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert errors == []
    assert versions_seen[0] == 1 and versions_seen[-1] == 2
    assert during > 0  # messages were sent while the processes were suspended
    for i, pid in enumerate(pids):
        state = primes_runtime.call(pid, "state", timeout=30.0)
        assert isinstance(state, dict)
        assert state["seen"] == list(range(sent[0])), f"process {i} lost or reordered messages"
        assert state["migrated"] == ["1", "slow"]
    assert len(report.pauses) == 3 and all(p.ms >= 0 for p in report.pauses)


def test_a_process_busy_with_a_long_message_is_suspended_after_it(tmp_path: Path, mod: str) -> None:
    node = deploy(tmp_path, mod, up_script(mod))
    pid = server.start(mod, "busy")
    started, go = threading.Event(), threading.Event()
    primes_runtime.cast(pid, ("busy", started, go))
    assert started.wait(10)
    reports: list[InstallReport] = []
    errors: list[BaseException] = []
    installed = threading.Event()

    def install() -> None:
        try:
            reports.append(handler.install(node, "2"))
        except BaseException as exc:
            errors.append(exc)
        installed.set()

    node_thread(target=install, daemon=True).start()
    # The message in hand holds the install (no sooner than that can it suspend the process):
    # the install is still waiting while the message is, however slow the machine.
    assert not installed.wait(0.5)
    go.set()
    assert installed.wait(60), "the install never finished after the message did"
    assert errors == []
    (pause,) = reports[0].pauses
    assert pause.ms >= 0
    assert primes_runtime.call(pid, "state") == {
        "seen": ["busy"],
        "tag": "busy",
        "migrated": ["1", "from1to2"],
    }


def test_a_handler_that_does_not_return_in_time_fails_the_install_and_rolls_back(
    tmp_path: Path, mod: str
) -> None:
    node = deploy(tmp_path, mod, up_script(mod, suspend_timeout=0.3))
    idle = server.start(mod, "idle")
    stuck = server.start(mod, "stuck")  # started after `idle`: suspended second
    started, go = threading.Event(), threading.Event()
    primes_runtime.cast(stuck, ("busy", started, go))
    assert started.wait(10)
    try:
        with pytest.raises(InstallFailed, match=r"relup:4 \(suspend .*still handling a message"):
            handler.install(node, "2")
    finally:
        go.set()
    assert node.release == "1"
    assert primes_runtime.call(idle, "vsn") == 1  # resumed, old code
    assert primes_runtime.call(stuck, "state") == {"seen": ["busy"], "tag": "stuck"}
