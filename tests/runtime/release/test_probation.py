"""Probation through the handler's API: a cast that crashes on the new code, no down script."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import primes_runtime
import pytest
from primes_runtime.behaviours import server
from primes_runtime.release import handler
from primes_runtime.release.reports import InstallFailed, InstallReport

from tests.runtime.release.deployed import deploy
from tests.runtime.release.servers import CODE_CHANGE_V2, counter, up_script

pytestmark = pytest.mark.usefixtures("node")

CRASHING_CAST = counter(2, code_change=CODE_CHANGE_V2).replace(
    "def handle_cast(msg, state):\n",
    'def handle_cast(msg, state):\n    if msg == "boom":\n        raise RuntimeError("v2 boom")\n',
)


def test_a_cast_crashing_in_the_window_keeps_the_process_alive_on_its_old_code_and_state(
    tmp_path: Path, mod: str
) -> None:
    node = deploy(tmp_path, mod, up_script(mod), v2=CRASHING_CAST)
    pids = [server.start(mod, tag) for tag in ("a", "b")]
    for pid in pids:
        primes_runtime.cast(pid, "kept")
    outcome: list[BaseException | InstallReport] = []

    def install() -> None:
        with node.entered():
            try:
                outcome.append(handler.install(node, "2", probation=60))
            except BaseException as exc:
                outcome.append(exc)

    worker = threading.Thread(target=install)
    worker.start()
    deadline = time.monotonic() + 30
    while primes_runtime.call(pids[0], "vsn") != 2:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    primes_runtime.cast(pids[0], "boom")
    primes_runtime.cast(pids[0], "after")  # queued behind the crash: handled on version 1
    worker.join(30)
    assert not worker.is_alive()
    (failure,) = outcome
    assert isinstance(failure, InstallFailed)
    trial = failure.report.probation
    assert trial is not None and trial.crash is not None
    assert (trial.crash.kind, trial.crash.error) == ("cast", "RuntimeError: v2 boom")
    assert trial.crash.state == "pre-upgrade snapshot"
    assert trial.rollback.startswith("the pre-upgrade snapshots (there is no releases/2/")
    assert failure.report.to_data()["rolled_back"] is True
    assert node.release == "1"
    assert sys.modules[mod].VSN == 1
    assert primes_runtime.call(pids[0], "vsn") == 1  # the same process, not a restarted one
    assert primes_runtime.call(pids[0], "state") == {"seen": ["kept", "after"], "tag": "a"}
    assert primes_runtime.call(pids[1], "state") == {"seen": ["kept"], "tag": "b"}


def test_a_window_of_zero_returns_at_once_and_reports_no_wait(tmp_path: Path, mod: str) -> None:
    node = deploy(tmp_path, mod, up_script(mod), v2=CRASHING_CAST)
    pid = server.start(mod, "a")
    report = handler.install(node, "2", probation=0)
    assert report.ok and report.probation is not None
    assert (report.probation.seconds, report.probation.passed) == (0.0, True)
    assert "probation" not in report.summary()
    primes_runtime.cast(pid, "boom")  # after the window: an ordinary crash
    deadline = time.monotonic() + 10
    while node.processes.lookup(pid) is not None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
