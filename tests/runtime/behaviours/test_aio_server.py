"""Async processes: coroutine callbacks on the node's event loop, same semantics as servers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from primes_runtime import (
    CallFailed,
    Down,
    NoProcess,
    StartError,
    call,
    cast,
    processes,
    send,
    send_after,
    start_async_server,
    start_server,
    stop,
    whereis,
)
from primes_runtime.behaviours.supervisor import ChildSpec, SupSpec, which_children
from primes_runtime.behaviours.supervisor import start as start_supervisor
from primes_runtime.errors import CodeChangeError, PrimesError
from primes_runtime.formats.node_toml import AioLimits
from primes_runtime.host.config import NodeConfig
from primes_runtime.host.node import Node
from primes_runtime.kernel import system
from primes_runtime.loading import code_server
from rt_fixtures import acounter
from rt_fixtures.kernel import table
from rt_fixtures.waiting import wait_until

pytestmark = pytest.mark.usefixtures("node")

ASYNC = "rt_fixtures.acounter"
THREADED = "rt_fixtures.counter"


# --- calls, casts, messages: thread -> async -------------------------------------------


def test_a_thread_calls_an_async_process_and_its_state_is_kept() -> None:
    pid = start_async_server(ASYNC, 5)
    assert call(pid, ("incr", 2)) == 7
    assert call(pid, "get") == 7


def test_init_and_handlers_run_as_the_async_process() -> None:
    pid = start_async_server(ASYNC)
    assert call(pid, "self") == pid
    assert call(pid, "init_pid") == pid


def test_casts_and_plain_messages_reach_an_async_process_in_order() -> None:
    pid = start_async_server(ASYNC)
    for n in range(50):
        cast(pid, n)
    send(pid, "ping")
    assert call(pid, "seen") == [*range(50), ("info", "ping")]


def test_an_async_process_handles_one_message_at_a_time_even_when_it_awaits() -> None:
    pid = start_async_server(ASYNC)
    for n in range(3):
        cast(pid, ("step", n, 0.02))
    assert call(pid, "seen") == [
        ("start", 0),
        ("end", 0),
        ("start", 1),
        ("end", 1),
        ("start", 2),
        ("end", 2),
    ]


def test_self_pid_stays_right_while_two_async_processes_interleave_their_awaits() -> None:
    a, b = start_async_server(ASYNC), start_async_server(ASYNC)
    answers: dict[str, object] = {}
    threads = [
        threading.Thread(target=lambda: answers.__setitem__("a", call(a, ("nap", 0.05)))),
        threading.Thread(target=lambda: answers.__setitem__("b", call(b, ("nap", 0.05)))),
    ]
    with_node = [_in_node(t) for t in threads]
    for t in with_node:
        t.start()
    for t in with_node:
        t.join(5)
    assert answers == {"a": a, "b": b}


def test_a_deferred_reply_from_an_async_process_reaches_the_thread_caller() -> None:
    pid = start_async_server(ASYNC)
    got: list[object] = []
    waiter = _in_node(threading.Thread(target=lambda: got.append(call(pid, "hold"))))
    waiter.start()
    wait_until(lambda: _state(pid)["held"] is not None, what="the call to be held")
    assert call(pid, ("release", 42)) == "released"
    waiter.join(5)
    assert got == [42]


# --- calls: async -> thread and async -> async ------------------------------------------


def test_an_async_process_awaits_a_call_to_a_thread_process() -> None:
    server = start_server(THREADED, 3)
    pid = start_async_server(ASYNC)
    assert call(pid, ("call", server, ("incr", 1))) == 4
    assert call(server, "get") == 4


def test_an_async_process_awaiting_a_blocked_thread_process_does_not_block_the_loop() -> None:
    server = start_server(THREADED)
    waiting, other = start_async_server(ASYNC), start_async_server(ASYNC)
    release = threading.Event()
    answers: list[object] = []

    def slow() -> None:
        answers.append(call(waiting, ("call", server, ("wait", release)), 30))

    worker = _in_node(threading.Thread(target=slow))
    worker.start()
    wait_until(lambda: server_busy(server), what="the thread server to be busy")
    assert call(other, ("incr", 1)) == 1  # the loop runs while `waiting` awaits its reply
    assert answers == []
    release.set()
    worker.join(30)
    assert answers == ["waited"]


def test_an_async_process_calls_another_async_process_by_name() -> None:
    start_async_server(ASYNC, 10, name="tally")
    pid = start_async_server(ASYNC)
    assert call(pid, ("call", "tally", ("incr", 5))) == 15
    assert whereis("tally") is not None


def test_an_async_process_casts_to_a_thread_process_and_to_an_async_one() -> None:
    server, other = start_server(THREADED), start_async_server(ASYNC)
    pid = start_async_server(ASYNC)
    cast(pid, ("forward", server, "to-thread"))
    cast(pid, ("forward", other, "to-async"))
    wait_until(lambda: call(server, "seen") == ["to-thread"], what="the cast to the thread one")
    wait_until(lambda: call(other, "seen") == ["to-async"], what="the cast to the async one")


def test_a_thread_process_calls_an_async_process() -> None:
    target = start_async_server(ASYNC, 1)
    server = start_server(THREADED)
    assert call(server, ("call", target, ("incr", 1))) == 2


def test_an_awaited_call_times_out_with_call_timeout() -> None:
    held = start_async_server(ASYNC)
    pid = start_async_server(ASYNC)
    kind, text = call(pid, ("call_timeout", held, ("nap", 60.0), 0.05), 30)  # type: ignore[misc]
    assert kind == "timeout"
    assert "no reply within 0.05 s" in text
    assert call(pid, "get") == 0  # the caller is still alive: the error was raised in it


def test_an_awaited_call_to_an_unknown_name_raises_no_process_in_the_caller() -> None:
    pid = start_async_server(ASYNC)
    with pytest.raises(CallFailed, match="NoProcess"):
        call(pid, ("call", "nobody", "get"))


def test_an_async_process_starts_another_through_blocking_without_deadlock() -> None:
    pid = start_async_server(ASYNC)
    child = call(pid, ("start", 7))
    assert call(child, "get") == 7
    assert table().lookup(child) is not None
    assert table().lookup(child).app == table().lookup(pid).app  # type: ignore[union-attr]


def test_a_blocking_start_from_the_event_loop_is_refused_with_a_clear_error(node: Node) -> None:
    with pytest.raises(PrimesError, match=r"use `await primes_runtime\.blocking"):
        node.aio.run(_starting_on_loop(node), None, 5.0)


async def _starting_on_loop(node: Node) -> object:
    return node.aio.run(_noop(), None, 1.0)


async def _noop() -> None:
    return None


# --- life and death ------------------------------------------------------------------


def test_a_failing_async_init_raises_start_error() -> None:
    with pytest.raises(StartError, match="init refused"):
        start_async_server(ASYNC, "fail")


def test_a_crash_in_an_async_handler_fails_the_call_and_runs_terminate() -> None:
    acounter.terminated.clear()
    pid = start_async_server(ASYNC, 9)
    with pytest.raises(CallFailed, match="asked to crash"):
        call(pid, "crash")
    wait_until(lambda: acounter.terminated, what="terminate")
    assert isinstance(acounter.terminated[0][0], RuntimeError)
    with pytest.raises(NoProcess):
        call(pid, "get")


def test_stop_awaits_the_async_terminate() -> None:
    acounter.terminated.clear()
    pid = start_async_server(ASYNC, 3)
    stop(pid, "shutdown")
    assert acounter.terminated == [("shutdown", 3)]


def test_a_supervisor_restarts_a_crashed_async_child() -> None:
    spec = SupSpec(children=[ChildSpec("a", (ASYNC, "start_link", (4,)))])
    sup = start_supervisor("rt_fixtures.sup", spec)
    first = which_children(sup)[0].pid
    assert first is not None
    cast(first, "crash")
    wait_until(lambda: which_children(sup)[0].pid not in (None, first), what="a restart")
    second = which_children(sup)[0].pid
    assert second is not None
    assert call(second, "get") == 4


def test_an_async_process_monitors_a_thread_process_and_gets_down() -> None:
    server = start_server(THREADED)
    pid = start_async_server(ASYNC)
    ref = call(pid, ("monitor", server))
    stop(server)
    wait_until(
        lambda: any(isinstance(m, tuple) and isinstance(m[1], Down) for m in call(pid, "seen")),  # type: ignore[attr-defined]
        what="the Down message",
    )
    seen = call(pid, "seen")
    assert ("info", Down(ref, server, "normal")) in seen  # type: ignore[arg-type, operator]


def test_a_timer_delivers_to_an_async_process() -> None:
    pid = start_async_server(ASYNC)
    send_after(0.01, pid, "tick")
    wait_until(
        lambda: ("info", "tick") in call(pid, "seen"),  # type: ignore[operator]
        what="the timer message",
    )


def test_introspection_lists_an_async_process_with_its_behaviour_and_status() -> None:
    pid = start_async_server(ASYNC, name="shown")
    system.suspend(pid, 1.0)
    [info] = [p for p in processes() if p.pid == pid]
    assert (info.behaviour, info.name, info.status) == ("async_server", "shown", "suspended")
    system.resume(pid)


# --- suspend, code change, resume --------------------------------------------------------


def test_suspend_waits_for_the_awaiting_message_and_buffers_mail_until_resume() -> None:
    pid = start_async_server(ASYNC)
    cast(pid, ("step", 0, 0.1))
    wait_until(lambda: _state(pid)["seen"] == [("start", 0)], what="the step to begin")
    system.suspend(pid, 10.0)
    assert _state(pid)["seen"] == [("start", 0), ("end", 0)]  # it waited for the message
    for n in range(5):
        cast(pid, n)
    time.sleep(0.02)
    assert len(_state(pid)["seen"]) == 2  # suspended: nothing handled
    system.resume(pid)
    assert call(pid, "seen") == [("start", 0), ("end", 0), *range(5)]


def test_suspend_times_out_on_a_message_that_awaits_too_long_and_leaves_it_running() -> None:
    from primes_runtime.errors import SuspendTimeout

    pid = start_async_server(ASYNC)
    cast(pid, ("step", 0, 1.0))
    wait_until(lambda: _state(pid)["seen"] == [("start", 0)], what="the step to begin")
    with pytest.raises(SuspendTimeout):
        system.suspend(pid, 0.02)
    assert call(pid, "get", 30) == 0


def test_an_async_code_change_runs_on_the_loop_and_new_code_runs_after_resume(
    tmp_path: Path, v2: Path
) -> None:
    pid = start_async_server(ASYNC, 2)
    system.suspend(pid, 1.0)
    undo = code_server.install(code_server.prepare(ASYNC, v2))
    try:
        system.change_code(pid, code_server.current(ASYNC), 1, "x")
        system.resume(pid)
        assert call(pid, "vsn") == 2
        assert _state(pid)["changed"] == (1, "x")
        assert call(pid, "get") == 2
    finally:
        undo.undo()


def test_a_failed_async_code_change_is_rolled_back_to_the_snapshot(v2: Path) -> None:
    pid = start_async_server(ASYNC, 6)
    system.suspend(pid, 1.0)
    snap = system.snapshot(pid)
    undo = code_server.install(code_server.prepare(ASYNC, v2))
    try:
        with pytest.raises(CodeChangeError, match="code_change refused"):
            system.change_code(pid, code_server.current(ASYNC), 1, "refuse")
    finally:
        undo.undo()
    system.restore(pid, snap)
    system.resume(pid)
    assert call(pid, "vsn") == 1
    assert call(pid, "get") == 6
    assert "changed" not in _state(pid)


# --- the loop watchdog ---------------------------------------------------------------


def test_a_callback_blocking_the_loop_is_logged_with_where_it_blocked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = NodeConfig(aio=AioLimits(block_threshold=0.05))
    fresh = Node(config=config, min_workers=2)
    try:
        with fresh.entered(), caplog.at_level(logging.WARNING, "primes_runtime.aio"):
            pid = start_async_server(ASYNC)
            assert call(pid, ("block", 0.3)) == "blocked"
            wait_until(lambda: fresh.aio.blocked, what="a blocked-loop report")
        report = fresh.aio.blocked[0]
        assert report.seconds > 0.05
        assert "time.sleep(seconds)" in report.stack
        assert "acounter.py" in report.stack
        assert any("event loop blocked for" in r.getMessage() for r in caplog.records)
        wait_until(
            lambda: any("event loop ran again after" in r.getMessage() for r in caplog.records),
            what="the end of the episode to be logged",
        )
    finally:
        fresh.close()


def test_the_block_threshold_is_a_node_toml_setting_and_a_bad_one_is_refused() -> None:
    from primes_runtime.errors import ConfigError
    from primes_runtime.host.config import parse

    assert parse("[aio]\nblock_threshold = 0.25\n").aio == AioLimits(block_threshold=0.25)
    assert parse("").aio.block_threshold == 0.1
    with pytest.raises(ConfigError, match=r"key aio.block_threshold must be a positive number"):
        parse("[aio]\nblock_threshold = 0\n")
    with pytest.raises(ConfigError, match=r"unknown key aio.threshold"):
        parse("[aio]\nthreshold = 1.0\n")


def test_a_loop_that_only_awaits_is_never_reported_blocked() -> None:
    config = NodeConfig(aio=AioLimits(block_threshold=0.5))
    fresh = Node(config=config, min_workers=2)
    try:
        with fresh.entered():
            pid = start_async_server(ASYNC)
            call(pid, ("nap", 1.5), 30)  # three thresholds of awaiting
        assert fresh.aio.blocked == []
    finally:
        fresh.close()


# --- helpers -------------------------------------------------------------------------


@pytest.fixture
def v2(tmp_path: Path) -> Iterator[Path]:
    """A code dir holding version 2 of the async fixture (VSN = 2)."""
    src = Path(acounter.__file__).read_text(encoding="utf-8").replace("VSN = 1", "VSN = 2")
    pkg = tmp_path / "rt_fixtures"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "acounter.py").write_text(src, encoding="utf-8")
    yield tmp_path


def _state(pid: object) -> dict[str, object]:
    proc = table().lookup(pid)  # type: ignore[arg-type]
    assert proc is not None
    state = proc.snapshot_state()
    assert isinstance(state, dict)
    return state


def server_busy(pid: object) -> bool:
    proc = table().lookup(pid)  # type: ignore[arg-type]
    return proc is not None and proc.running


def _in_node(thread: threading.Thread) -> threading.Thread:
    from primes_runtime.kernel.context import current_node

    node = current_node()
    target = thread._target  # type: ignore[attr-defined]

    def run() -> None:
        with node.entered():
            target()

    return threading.Thread(target=run)
