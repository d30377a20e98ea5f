"""The server behaviour: call, cast, plain messages, stop, crashes."""

from __future__ import annotations

import threading

import pytest
from primes_runtime import (
    CallFailed,
    CallTimeout,
    NoProcess,
    StartError,
    call,
    cast,
    send,
    start_server,
    stop,
    whereis,
)
from rt_fixtures import counter
from rt_fixtures.kernel import node_thread, table
from rt_fixtures.waiting import wait_until

pytestmark = pytest.mark.usefixtures("node")

COUNTER = "rt_fixtures.counter"


def test_call_returns_the_reply_and_keeps_state() -> None:
    pid = start_server(COUNTER, 5)
    assert call(pid, ("incr", 2)) == 7
    assert call(pid, "get") == 7


def test_call_runs_in_the_servers_process() -> None:
    pid = start_server(COUNTER)
    assert call(pid, "self") == pid


def test_cast_and_plain_messages_are_handled_in_order() -> None:
    pid = start_server(COUNTER)
    cast(pid, "a")
    send(pid, "b")
    cast(pid, "c")
    assert call(pid, "seen") == ["a", ("info", "b"), "c"]


def test_call_by_registered_name() -> None:
    pid = start_server(COUNTER, 1, name="test_server_named")
    assert whereis("test_server_named") == pid
    assert call("test_server_named", "get") == 1


def test_call_timeout_raises_call_timeout_before_the_reply_exists() -> None:
    pid = start_server(COUNTER)
    gate = threading.Event()  # the server replies only once the gate opens
    with pytest.raises(CallTimeout, match=r"no reply within 0\.1 s"):
        call(pid, ("wait", gate), timeout=0.1)
    assert not gate.is_set()  # so the caller gave up without waiting for the reply
    gate.set()
    assert call(pid, "get") == 0  # the server is fine afterwards


def test_call_to_a_dead_process_fails_without_waiting_for_its_timeout() -> None:
    pid = start_server(COUNTER)
    stop(pid)
    outcome: list[BaseException] = []
    answered = threading.Event()

    def caller() -> None:  # a timeout no test outlives: only the dead pid can end this call
        try:
            call(pid, "get", timeout=3600)
        except BaseException as exc:
            outcome.append(exc)
        answered.set()

    node_thread(target=caller, daemon=True).start()
    assert answered.wait(30), "the call waited as if for a reply"
    assert len(outcome) == 1 and isinstance(outcome[0], NoProcess)
    assert "not alive" in str(outcome[0])


def test_call_to_an_unknown_name_fails_promptly() -> None:
    with pytest.raises(NoProcess, match="no process is registered as 'nobody_here'"):
        call("nobody_here", "get", timeout=10)


def test_cast_to_an_unknown_name_raises_but_to_a_dead_pid_is_dropped() -> None:
    pid = start_server(COUNTER)
    stop(pid)
    cast(pid, "lost")
    with pytest.raises(NoProcess):
        cast("nobody_here", "x")


def test_failing_init_is_a_start_error_with_the_cause() -> None:
    with pytest.raises(StartError, match="init raised ValueError") as info:
        start_server(COUNTER, "fail", name="test_server_failing")
    assert isinstance(info.value.__cause__, ValueError)
    assert whereis("test_server_failing") is None


def test_starting_a_second_process_under_a_taken_name_fails() -> None:
    start_server(COUNTER, name="test_server_taken")
    with pytest.raises(StartError, match="already registered"):
        start_server(COUNTER, name="test_server_taken")


def test_crash_fails_the_call_and_later_calls_get_no_process() -> None:
    pid = start_server(COUNTER)
    with pytest.raises(CallFailed, match="RuntimeError"):
        call(pid, "crash")
    with pytest.raises(NoProcess):
        call(pid, "get")


def test_crash_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    pid = start_server(COUNTER)
    cast(pid, "crash")
    wait_until(lambda: table().lookup(pid) is None, what="the crash")
    records = [r for r in caplog.records if "crashed" in r.getMessage()]
    assert records and records[0].exc_info is not None
    assert "cast crash" in caplog.text


def test_a_dying_process_answers_every_queued_call_with_call_failed() -> None:
    pid = start_server(COUNTER)
    gate = threading.Event()
    results: dict[str, object] = {}

    def first() -> None:
        results["first"] = call(pid, ("wait", gate))

    def queued() -> None:
        try:
            call(pid, "get", timeout=10)
        except CallFailed as exc:
            results["queued"] = exc

    t1 = node_thread(target=first)
    t1.start()
    proc = table().lookup(pid)
    assert proc is not None
    wait_until(lambda: proc.running, what="the first call to run")
    cast(pid, "crash")
    t2 = node_thread(target=queued)
    t2.start()
    wait_until(lambda: len(proc.mailbox) == 2, what="two queued messages")
    gate.set()
    t1.join(5)
    t2.join(5)
    assert results["first"] == "waited"
    assert isinstance(results["queued"], CallFailed)


def test_deferred_reply_answers_the_held_caller() -> None:
    pid = start_server(COUNTER)
    got: list[object] = []
    waiter = node_thread(target=lambda: got.append(call(pid, "hold")))
    waiter.start()
    wait_until(lambda: _held(pid), what="the held call")
    assert call(pid, ("release", 42)) == "released"
    waiter.join(5)
    assert got == [42]


def _held(pid: object) -> bool:
    proc = table().lookup(pid)  # type: ignore[arg-type]
    return proc is not None and getattr(proc, "state", {}).get("held") is not None


def test_held_caller_gets_call_failed_when_the_server_stops() -> None:
    pid = start_server(COUNTER)
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            call(pid, "hold", timeout=10)
        except CallFailed as exc:
            errors.append(exc)

    waiter = node_thread(target=hold)
    waiter.start()
    wait_until(lambda: _held(pid), what="the held call")
    stop(pid, "shutdown")
    waiter.join(5)
    assert len(errors) == 1


def test_stop_runs_terminate_with_the_reason() -> None:
    counter.terminated.clear()
    pid = start_server(COUNTER, 3)
    stop(pid, "shutdown")
    assert counter.terminated == [("shutdown", 3)]
    assert table().lookup(pid) is None


def test_stop_result_replies_then_ends_the_server() -> None:
    pid = start_server(COUNTER, name="test_server_stopping")
    assert call(pid, "stop") == "bye"
    wait_until(lambda: whereis("test_server_stopping") is None, what="the exit")


def test_a_call_from_inside_a_handler_reaches_another_server() -> None:
    a = start_server(COUNTER, 1)
    b = start_server(COUNTER, 2)
    assert call(a, ("call", b, "get")) == 2
