"""What the release handler uses: suspend, resume, snapshot, restore, change_code."""

from __future__ import annotations

import sys
import threading
import time
import types
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from primes_runtime import (
    CodeChangeError,
    NoProcess,
    SuspendTimeout,
    call,
    cast,
    start_async_server,
    start_server,
    start_statem,
    stop,
)
from primes_runtime.errors import NotSuspended
from primes_runtime.kernel import system
from primes_runtime.kernel.context import app_context
from primes_runtime.kernel.pid import Pid
from primes_runtime.kernel.process import Process
from primes_runtime.loading import code_server
from rt_fixtures.kernel import node_thread, table
from rt_fixtures.waiting import wait_until

pytestmark = pytest.mark.usefixtures("node")

COUNTER = "rt_fixtures.counter"

SWAP_V1 = """
from primes_runtime.server import Reply
VSN = 1
def init(args):
    return {"n": 0}
def handle_call(request, caller, state):
    if request == "vsn":
        return Reply((VSN, state), state)
    state = {**state, "n": state["n"] + 1}
    return Reply(state["n"], state)
def handle_cast(msg, state):
    return {**state, "log": state.get("log", []) + [msg]}
"""

SWAP_V2 = (
    SWAP_V1.replace("VSN = 1", "VSN = 2")
    + """
def code_change(old_vsn, state, extra):
    if extra == "boom":
        raise ValueError("cannot migrate")
    return {**state, "migrated": (old_vsn, extra)}
"""
)


@pytest.fixture
def swap_module(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A fresh module (unique name) at v1 on sys.path, plus a dir holding its v2."""
    name = f"swap_demo_{uuid.uuid4().hex[:8]}"
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    v1.mkdir()
    v2.mkdir()
    (v1 / f"{name}.py").write_text(SWAP_V1)
    (v2 / f"{name}.py").write_text(SWAP_V2)
    sys.path.insert(0, str(v1))
    yield name, v2
    sys.path.remove(str(v1))
    sys.modules.pop(name, None)


def test_suspend_of_an_idle_process_returns_at_once() -> None:
    pid = start_server(COUNTER)
    assert system.suspend(pid, 1.0) == 0.0
    assert table().resolve(pid).status == "suspended"
    system.resume(pid)
    assert table().resolve(pid).status == "running"


def test_suspended_process_buffers_messages_in_order() -> None:
    pid = start_server(COUNTER)
    system.suspend(pid, 1.0)
    for i in range(100):
        cast(pid, i)
    proc = table().resolve(pid)
    assert len(proc.mailbox) == 100
    assert proc.state["seen"] == []  # type: ignore[attr-defined]
    system.resume(pid)
    assert call(pid, "seen") == list(range(100))


def test_a_call_to_a_suspended_process_waits_and_then_gets_its_reply() -> None:
    pid = start_server(COUNTER, 7)
    system.suspend(pid, 1.0)
    got: list[object] = []
    caller = node_thread(target=lambda: got.append(call(pid, "get", timeout=10)))
    caller.start()
    wait_until(lambda: len(table().resolve(pid).mailbox) == 1, what="the queued call")
    assert got == []
    system.resume(pid)
    caller.join(5)
    assert got == [7]


def test_suspend_waits_for_the_current_message_to_finish() -> None:
    pid = start_server(COUNTER)
    gate = threading.Event()
    busy = node_thread(target=lambda: call(pid, ("wait", gate), timeout=10))
    busy.start()
    proc = table().resolve(pid)
    wait_until(lambda: proc.running, what="the message to start")
    threading.Timer(0.1, gate.set).start()
    waited = system.suspend(pid, 5.0)
    assert waited > 0.0
    assert not proc.running and proc.status == "suspended"
    busy.join(5)
    system.resume(pid)


def test_suspend_times_out_and_leaves_the_process_running() -> None:
    pid = start_server(COUNTER)
    gate = threading.Event()
    busy = node_thread(target=lambda: call(pid, ("wait", gate), timeout=10))
    busy.start()
    proc = table().resolve(pid)
    wait_until(lambda: proc.running, what="the message to start")
    with pytest.raises(SuspendTimeout, match="still handling a message"):
        system.suspend(pid, 0.05)
    gate.set()
    busy.join(5)
    assert proc.status == "running"
    assert call(pid, "get") == 0


def test_suspend_of_a_dead_process_is_no_process() -> None:
    pid = start_server(COUNTER)
    stop(pid)
    with pytest.raises(NoProcess):
        system.suspend(pid, 1.0)


def test_change_code_needs_a_suspended_process() -> None:
    pid = start_server(COUNTER)
    with pytest.raises(NotSuspended):
        system.change_code(pid, code_server.current(COUNTER), "1", None)


def test_replacing_code_and_state_of_a_suspended_process(swap_module: tuple[str, Path]) -> None:
    name, v2_dir = swap_module
    pid = start_server(name)
    assert call(pid, "bump") == 1
    system.suspend(pid, 1.0)
    cast(pid, "while suspended")
    prepared = code_server.prepare(name, v2_dir)
    assert code_server.current(name).VSN == 1  # prepared, not installed: nothing changed yet
    code_server.install(prepared)
    system.change_code(pid, code_server.current(name), "1", "from1to2")
    system.resume(pid)
    vsn, state = call(pid, "vsn")  # type: ignore[misc]
    assert vsn == 2
    assert state == {"n": 1, "migrated": ("1", "from1to2"), "log": ["while suspended"]}


def test_code_change_that_raises_is_a_code_change_error_and_keeps_the_state(
    swap_module: tuple[str, Path],
) -> None:
    name, v2_dir = swap_module
    pid = start_server(name)
    call(pid, "bump")
    system.suspend(pid, 1.0)
    module = code_server.prepare(name, v2_dir).module
    with pytest.raises(CodeChangeError, match="cannot migrate") as info:
        system.change_code(pid, module, "1", "boom")
    assert isinstance(info.value.__cause__, ValueError)
    system.resume(pid)
    assert call(pid, "vsn") == (1, {"n": 1})


def test_restore_puts_a_snapshot_back(swap_module: tuple[str, Path]) -> None:
    name, v2_dir = swap_module
    pid = start_server(name)
    call(pid, "bump")
    system.suspend(pid, 1.0)
    snap = system.snapshot(pid)
    system.change_code(pid, code_server.prepare(name, v2_dir).module, "1", "x")
    system.restore(pid, snap)
    system.resume(pid)
    assert call(pid, "vsn") == (1, {"n": 1})


def test_state_machine_code_change_actions_apply_at_resume() -> None:
    pid = start_statem("rt_fixtures.ticker", 100.0)
    system.suspend(pid, 1.0)
    system.change_code(pid, code_server.current("rt_fixtures.ticker"), "1", 0.02)
    system.resume(pid)
    wait_until(lambda: call(pid, "ticks") >= 2, what="ticks at the new interval")  # type: ignore[operator]
    assert call(pid, "state") == ("ticking", 0.02)


def test_pids_using_lists_the_processes_of_a_module() -> None:
    a = start_server(COUNTER)
    b = start_server(COUNTER)
    t = start_statem("rt_fixtures.ticker", 100.0)
    using = table().using(COUNTER)
    assert a in using and b in using and t not in using
    assert t in table().using("rt_fixtures.ticker")


def test_no_message_is_lost_across_suspend_and_resume_under_load() -> None:
    pid = start_server(COUNTER)
    total = 20_000
    done = threading.Event()

    def sender() -> None:
        for i in range(total):
            cast(pid, i)
        done.set()

    thread = node_thread(target=sender)
    thread.start()
    cycles = 0
    while not done.is_set() or cycles < 20:
        system.suspend(pid, 5.0)
        system.resume(pid)
        cycles += 1
    thread.join(10)
    assert call(pid, "seen", timeout=30) == list(range(total))
    assert cycles >= 20


def test_state_machine_snapshot_restores_state_data_and_timeout() -> None:
    pid = start_statem("rt_fixtures.ticker", 100.0)
    system.suspend(pid, 1.0)
    snap = system.snapshot(pid)
    system.change_code(pid, code_server.current("rt_fixtures.ticker"), "1", 0.5)
    system.restore(pid, snap)
    system.resume(pid)  # the code_change actions were rolled back with the state
    assert call(pid, "state") == ("ticking", 100.0)
    proc = table().resolve(pid)
    armed = proc._state_t  # type: ignore[attr-defined]
    assert armed is not None and armed[0].remaining() > 50.0


def test_self_pid_is_none_outside_a_process() -> None:
    from primes_runtime import self_pid

    assert self_pid() is None


def test_processes_started_in_an_app_context_belong_to_that_app() -> None:
    with app_context("some_app"):
        pid = start_server(COUNTER)
    assert table().resolve(pid).app == "some_app"
    assert table().resolve(start_server(COUNTER)).app is None


def test_suspend_all_flags_every_live_process_and_leaves_out_a_dead_one() -> None:
    pids = [start_server(COUNTER) for _ in range(5)]
    procs = [table().resolve(pid) for pid in pids]
    stop(pids[2])
    suspended = system.suspend_all(procs, 1.0)
    assert suspended == [procs[0], procs[1], procs[3], procs[4]]
    assert all(p.status == "suspended" for p in suspended)
    for i in range(3):
        cast(pids[0], i)
    system.resume_all(suspended)
    assert all(p.status == "running" for p in suspended)
    assert call(pids[0], "seen") == [0, 1, 2]  # the mail of the pause, in order


def _three_one_busy(
    which: int, gate: threading.Event
) -> tuple[list[Pid], list[Process], threading.Thread]:
    """Three counters, the `which`-th in the middle of a message that waits for `gate`."""
    pids = [start_server(COUNTER) for _ in range(3)]
    procs = [table().resolve(pid) for pid in pids]
    busy = node_thread(target=lambda: call(pids[which], ("wait", gate), timeout=10))
    busy.start()
    wait_until(lambda: procs[which].running, what="the message to start")
    return pids, procs, busy


def test_suspend_all_waits_for_a_busy_process_after_flagging_the_rest() -> None:
    gate = threading.Event()
    _, procs, busy = _three_one_busy(1, gate)
    threading.Timer(0.1, gate.set).start()
    assert system.suspend_all(procs, 5.0) == procs
    assert all(p.status == "suspended" and not p.running for p in procs)
    busy.join(5)
    system.resume_all(procs)


def test_suspend_all_past_its_timeout_resumes_every_process_it_suspended() -> None:
    gate = threading.Event()
    pids, procs, busy = _three_one_busy(2, gate)
    with pytest.raises(SuspendTimeout, match="still handling a message"):
        system.suspend_all(procs, 0.05)
    gate.set()
    busy.join(5)
    assert [p.status for p in procs] == ["running"] * 3
    assert [call(pid, "get") for pid in pids] == [0, 0, 0]


def test_resume_all_runs_a_behaviours_on_resume_as_resume_does() -> None:
    pid = start_statem("rt_fixtures.ticker", 100.0)
    proc = table().resolve(pid)
    assert system.suspend_all([proc], 1.0) == [proc]
    system.change_code(pid, code_server.current("rt_fixtures.ticker"), "1", 0.02)
    system.resume_all([proc])  # the statem's on_resume applies code_change's actions
    wait_until(lambda: call(pid, "ticks") >= 2, what="ticks at the new interval")  # type: ignore[operator]
    assert call(pid, "state") == ("ticking", 0.02)


# --- a module held with one flag (system.hold_module) -----------------------------------


def _counters(n: int) -> tuple[list[Pid], list[Process]]:
    pids = [start_server(COUNTER) for _ in range(n)]
    return pids, [table().resolve(pid) for pid in pids]


def test_a_held_module_handles_no_mail_until_released_then_all_of_it_in_order() -> None:
    pids, procs = _counters(3)
    assert system.hold_module(table(), COUNTER, procs, 1.0) == procs
    for i in range(3):
        cast(pids[0], i)
    assert [p.status for p in procs] == ["suspended"] * 3
    assert len(procs[0].mailbox) == 3 and not procs[0].scheduled
    system.release_module(table(), COUNTER, procs)
    assert COUNTER not in table().holds
    assert call(pids[0], "seen") == [0, 1, 2]
    assert [p.status for p in procs] == ["running"] * 3


def test_hold_module_waits_for_a_message_in_progress() -> None:
    gate = threading.Event()
    _, procs, busy = _three_one_busy(1, gate)
    threading.Timer(0.1, gate.set).start()
    assert system.hold_module(table(), COUNTER, procs, 5.0) == procs
    assert not any(p.running for p in procs)
    busy.join(5)
    system.release_module(table(), COUNTER, procs)


def test_hold_module_past_its_timeout_lets_every_process_run_again() -> None:
    gate = threading.Event()
    pids, procs, busy = _three_one_busy(2, gate)
    with pytest.raises(SuspendTimeout, match="still handling a message"):
        system.hold_module(table(), COUNTER, procs, 0.05)
    assert COUNTER not in table().holds
    gate.set()
    busy.join(5)
    assert [call(pid, "get") for pid in pids] == [0, 0, 0]


def test_a_process_started_while_its_module_is_held_stands_still_until_the_release() -> None:
    _, procs = _counters(1)
    system.hold_module(table(), COUNTER, procs, 1.0)
    late = start_server(COUNTER)
    cast(late, "early")
    assert table().resolve(late).status == "suspended"
    assert table().resolve(late).state["seen"] == []  # type: ignore[attr-defined]
    system.release_module(table(), COUNTER, procs)
    assert call(late, "seen") == ["early"]


def test_no_message_is_handled_while_its_module_is_held_under_load() -> None:
    pids, procs = _counters(4)
    done = threading.Event()

    def flood() -> None:
        n = 0
        while not done.is_set():
            cast(pids[n % 4], n)
            n += 1

    sender = node_thread(target=flood)
    sender.start()
    try:
        for _ in range(40):
            system.hold_module(table(), COUNTER, procs, 5.0)
            seen = [len(p.state["seen"]) for p in procs]  # type: ignore[attr-defined]
            assert not any(p.running for p in procs)
            threading.Event().wait(0.002)  # the sender goes on meanwhile
            assert [len(p.state["seen"]) for p in procs] == seen  # type: ignore[attr-defined]
            system.release_module(table(), COUNTER, procs)
    finally:
        done.set()
        sender.join(5)
    total = sum(len(call(pid, "seen")) for pid in pids)  # type: ignore[arg-type]
    assert total > 0


def test_a_hold_turned_into_flags_lets_one_process_run_alone() -> None:
    pids, procs = _counters(2)
    system.hold_module(table(), COUNTER, procs, 1.0)
    system.hold_to_flags(table(), COUNTER, procs)
    assert COUNTER not in table().holds
    assert [p.status for p in procs] == ["suspended", "suspended"]
    system.resume(procs[0])
    assert call(pids[0], "get") == 0
    assert procs[1].status == "suspended"
    system.resume(procs[1])


def test_an_async_process_stands_still_while_its_module_is_held() -> None:
    pid = start_async_server("rt_fixtures.acounter")
    proc = table().resolve(pid)
    system.hold_module(table(), "rt_fixtures.acounter", [proc], 1.0)
    cast(pid, "during")
    threading.Event().wait(0.05)
    assert proc.state["seen"] == []  # type: ignore[attr-defined]
    system.release_module(table(), "rt_fixtures.acounter", [proc])
    assert "during" in call(pid, "seen")  # type: ignore[operator]


def test_snapshot_and_restore_take_a_process_of_a_held_module_as_suspended() -> None:
    pids, procs = _counters(1)
    call(pids[0], ("incr", 2))
    system.hold_module(table(), COUNTER, procs, 1.0)
    snap = system.snapshot(procs[0])
    procs[0].state = {"count": 9, "seen": [], "held": None}  # type: ignore[attr-defined]
    system.restore(procs[0], snap)
    system.release_module(table(), COUNTER, procs)
    assert call(pids[0], "get") == 2


def test_a_process_still_in_its_init_is_waited_for_as_one_in_a_message() -> None:
    name = f"slow_init_{uuid.uuid4().hex[:8]}"
    module = types.ModuleType(name)
    started = threading.Event()

    def init(args: object) -> dict[str, int]:
        started.set()
        time.sleep(0.2)
        return {"n": 1}

    module.__dict__.update(init=init)
    sys.modules[name] = module
    try:
        starter = node_thread(target=lambda: start_server(name))
        starter.start()
        assert started.wait(5)
        (proc,) = table().running(name)  # in the table, its init not done
        assert system.hold_module(table(), name, [proc], 5.0) == [proc]
        assert system.snapshot(proc).state == {"n": 1}
        system.release_module(table(), name, [proc])
        starter.join(5)
    finally:
        del sys.modules[name]


def test_an_init_ended_by_system_exit_leaves_nothing_a_suspend_waits_for() -> None:
    name = f"exit_init_{uuid.uuid4().hex[:8]}"
    module = types.ModuleType(name)

    def init(args: object) -> dict[str, int]:
        raise SystemExit(1)

    module.__dict__.update(init=init)
    sys.modules[name] = module
    try:
        with pytest.raises(SystemExit):
            start_server(name)
        procs = table().running(name)
        assert system.suspend_all(procs, 0.5) == procs  # (SuspendTimeout if still "running")
        system.resume_all(procs)
    finally:
        del sys.modules[name]
