"""Tests for install: the script runs in the node; on failure everything is put back."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from types import ModuleType

import primes_runtime
import pytest
from primes_runtime.behaviours import aioserver, server
from primes_runtime.behaviours.server import ServerProcess
from primes_runtime.kernel.process import spawn
from primes_runtime.release import changing, handler
from primes_runtime.release.errors import ReleaseError
from primes_runtime.release.reports import InstallFailed
from rt_fixtures.kernel import table

from tests.runtime.release.deployed import deploy
from tests.runtime.release.servers import counter, up_script

pytestmark = pytest.mark.usefixtures("node")


def test_install_migrates_state_and_switches_code(tmp_path: Path, mod: str) -> None:
    node = deploy(tmp_path, mod, up_script(mod))
    pids = [server.start(mod, f"p{i}") for i in range(3)]
    for pid in pids:
        primes_runtime.cast(pid, "before")
    report = handler.install(node, "2")
    assert report.ok and (report.from_version, report.to_version) == ("1", "2")
    assert report.direction == "up"
    assert node.release == "2"
    for i, pid in enumerate(pids):
        assert primes_runtime.call(pid, "vsn") == 2
        state = primes_runtime.call(pid, "state")
        assert state == {"seen": ["before"], "tag": f"p{i}", "migrated": ["1", "from1to2"]}
    assert sys.modules[mod].VSN == 2  # later imports get the new code too
    assert {p.pid for p in report.pauses} == {str(p) for p in pids}
    assert "paused" in report.summary()


def test_a_code_change_raising_midway_rolls_every_process_back(tmp_path: Path, mod: str) -> None:
    node = deploy(tmp_path, mod, up_script(mod))
    tags = ["a", "b", "explode", "d", "e"]
    pids = [server.start(mod, tag) for tag in tags]
    for pid in pids:
        primes_runtime.cast(pid, "kept")
    old_module = sys.modules[mod]
    with pytest.raises(InstallFailed) as info:
        handler.install(node, "2")
    report = info.value.report
    assert report.failed is not None
    assert report.failed.line == 6  # the code_change line of the script
    assert report.failed.script == "releases/2/up_from_1.relup"
    assert "ValueError: cannot migrate this one" in report.failed.reason
    assert f"<0.{pids[2].id}>" in report.failed.reason
    assert report.rollback_problems == ()
    assert "rolled back, release 1 is still current" in str(info.value)
    assert "\n" not in str(info.value)
    assert node.release == "1"
    assert sys.modules[mod] is old_module
    for tag, pid in zip(tags, pids, strict=True):
        assert primes_runtime.call(pid, "vsn") == 1
        assert primes_runtime.call(pid, "state") == {"seen": ["kept"], "tag": tag}
    for pid in pids:  # and they keep serving
        primes_runtime.cast(pid, "after")
        state = primes_runtime.call(pid, "state")
        assert isinstance(state, dict) and state["seen"] == ["kept", "after"]


def test_a_code_change_timing_out_rolls_back_and_its_late_result_is_dropped(
    tmp_path: Path, mod: str
) -> None:
    node = deploy(tmp_path, mod, up_script(mod, timeout=0.5))
    pids = [server.start(mod, "x"), server.start(mod, "hang")]
    with pytest.raises(InstallFailed, match=r"took longer than 0.5 s"):
        handler.install(node, "2")
    assert primes_runtime.call(pids[1], "state") == {"seen": [], "tag": "hang"}
    assert primes_runtime.call(pids[0], "vsn") == 1
    # When the abandoned code_change finally returns, it must not overwrite the state.
    import time

    from primes_runtime.release.changing import lingering_code_changes

    assert len(lingering_code_changes()) == 1
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and lingering_code_changes():
        time.sleep(0.05)
    assert not lingering_code_changes()
    assert primes_runtime.call(pids[1], "state") == {"seen": [], "tag": "hang"}


class _SetAtTheDeadline(ServerProcess):
    """A server whose code_change returns at once but whose result is set only once the
    install's timeout has passed: when the rollback restores its state, or when the
    release handler says it waits for the result to be set first."""

    __slots__ = ()
    deadline = threading.Event()

    def code_change(self, module: ModuleType, old_vsn: object, extra: object) -> None:
        result = module.code_change(old_vsn, self.state, extra)
        assert type(self).deadline.wait(10), "the install never reached its timeout"
        self.state = result

    def restore_state(self, state: object) -> None:
        super().restore_state(state)
        type(self).deadline.set()


class _WaitsForTheResult(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if "returned as its timeout passed" in record.getMessage():
            _SetAtTheDeadline.deadline.set()


def test_a_code_change_returning_at_its_timeout_never_overwrites_the_restored_state(
    tmp_path: Path, mod: str, caplog: pytest.LogCaptureFixture
) -> None:
    node = deploy(tmp_path, mod, up_script(mod, timeout=0.1))
    pid = spawn(_SetAtTheDeadline(mod), "deadline", None)
    caplog.set_level(logging.INFO, logger="primes_runtime.release")
    handler_ = _WaitsForTheResult()
    logging.getLogger("primes_runtime.release").addHandler(handler_)
    try:
        for _ in range(20):
            _SetAtTheDeadline.deadline.clear()
            with pytest.raises(InstallFailed, match=r"took longer than 0.1 s"):
                handler.install(node, "2")
            for thread in threading.enumerate():
                if thread.name.startswith(changing.WORKER):
                    thread.join(10)
            assert primes_runtime.call(pid, "state") == {"seen": [], "tag": "deadline"}
            assert primes_runtime.call(pid, "vsn") == 1
    finally:
        logging.getLogger("primes_runtime.release").removeHandler(handler_)


ASYNC_CODE_CHANGE = """

async def code_change(old_vsn, state, extra):
    import asyncio
    await asyncio.sleep(0.3)
    return {**state, "migrated": [old_vsn, extra]}
"""


def test_an_async_code_change_finishing_after_its_timeout_leaves_the_restored_state(
    tmp_path: Path, mod: str
) -> None:
    v2 = counter(2, code_change=ASYNC_CODE_CHANGE)
    node = deploy(tmp_path, mod, up_script(mod, timeout=0.1), v2=v2)
    pid = aioserver.start(mod, "slow")
    with pytest.raises(InstallFailed, match=r"took longer than 0.1 s"):
        handler.install(node, "2")
    for thread in threading.enumerate():
        if thread.name.startswith(changing.WORKER):
            thread.join(10)
    assert primes_runtime.call(pid, "state") == {"seen": [], "tag": "slow"}
    assert primes_runtime.call(pid, "vsn") == 1


def test_a_new_module_that_fails_to_load_is_a_clean_refusal(tmp_path: Path, mod: str) -> None:
    node = deploy(tmp_path, mod, up_script(mod), v2="raise ImportError('broken v2')\n")
    pid = server.start(mod, "a")
    with pytest.raises(ReleaseError, match=r"cannot be installed: .*relup:2 \(load_object_code"):
        handler.install(node, "2")
    assert node.release == "1"
    assert primes_runtime.call(pid, "vsn") == 1
    assert process_status(pid) == "running"


def test_a_failure_after_resume_suspends_again_and_restores(tmp_path: Path, mod: str) -> None:
    tail = f'apply {{"module": "{mod}", "function": "no_such_function", "args": []}}'
    node = deploy(tmp_path, mod, up_script(mod, tail=tail))
    pid = server.start(mod, "a")
    with pytest.raises(InstallFailed) as info:
        handler.install(node, "2")
    failed = info.value.report.failed
    assert failed is not None and failed.line == 8 and "no_such_function" in failed.reason
    assert primes_runtime.call(pid, "vsn") == 1
    assert primes_runtime.call(pid, "state") == {"seen": [], "tag": "a"}
    assert process_status(pid) == "running"


def test_install_of_the_current_release_is_refused(tmp_path: Path, mod: str) -> None:
    node = deploy(tmp_path, mod, up_script(mod))
    with pytest.raises(ReleaseError, match="already current"):
        handler.install(node, "1")


def test_install_without_a_script_says_which_files_it_looked_for(tmp_path: Path, mod: str) -> None:
    node = deploy(tmp_path, mod, up_script(mod))
    (node.root / "releases" / "2" / "up_from_1.relup").unlink()
    with pytest.raises(ReleaseError, match=r"releases/2/up_from_1.relup nor releases/1/down_to_2"):
        handler.install(node, "2")


def process_status(pid: primes_runtime.Pid) -> str:
    proc = table().lookup(pid)
    assert proc is not None
    return proc.status


def test_a_rollback_after_the_resume_takes_the_group_back_newest_first(
    tmp_path: Path, mod: str
) -> None:
    tail = f'apply {{"module": "{mod}", "function": "no_such_function", "args": []}}'
    node = deploy(tmp_path, mod, up_script(mod, tail=tail))
    pids = [str(server.start(mod, tag)) for tag in "abc"]
    with pytest.raises(InstallFailed) as info:
        handler.install(node, "2")
    assert info.value.report.rollback_problems == ()
    # resumed a, b, c by the script; re-suspended and resumed c, b, a by the rollback
    assert [p.pid for p in info.value.report.pauses] == [*pids, *reversed(pids)]
