"""The state machine behaviour: states, state timeouts, event timeouts, replies."""

from __future__ import annotations

import time

import pytest
from primes_runtime import CallFailed, call, cast, send, start_statem
from rt_fixtures.kernel import table
from rt_fixtures.waiting import wait_until

pytestmark = pytest.mark.usefixtures("node")

TICKER = "rt_fixtures.ticker"


def test_state_timeout_fires_repeatedly() -> None:
    pid = start_statem(TICKER, 0.02)
    wait_until(lambda: call(pid, "ticks") >= 3, what="three ticks")  # type: ignore[operator]


def test_unrelated_events_do_not_reset_the_state_timeout() -> None:
    # Queried far more often than its interval, it must keep ticking (the seed's miner
    # keeps mining while it is asked for its largest prime).
    pid = start_statem(TICKER, 0.1)
    deadline = time.monotonic() + 5.0
    ticks = 0
    while ticks < 3 and time.monotonic() < deadline:
        ticks = call(pid, "ticks")  # type: ignore[assignment]
        cast(pid, "noise")
    assert ticks >= 3


def test_changing_state_cancels_the_state_timeout() -> None:
    pid = start_statem(TICKER, 0.05)
    assert call(pid, ("goto", "paused")) == "ok"
    before = call(pid, "ticks")
    time.sleep(0.3)  # six intervals: a leftover timeout would have fired by now
    assert call(pid, "ticks") == before
    assert call(pid, "events") == []


def test_event_timeout_fires_when_no_event_comes() -> None:
    pid = start_statem(TICKER, 100.0)
    proc = table().lookup(pid)
    assert call(pid, ("idle_after", 0.05)) == "ok"
    # Look at its data without sending it events (a call would cancel the timeout).
    wait_until(lambda: ("timeout", "idle") in proc.data["events"], what="the event timeout")  # type: ignore[union-attr]


def test_any_event_cancels_the_event_timeout() -> None:
    pid = start_statem(TICKER, 100.0)
    assert call(pid, ("idle_after", 0.3)) == "ok"
    send(pid, "poke")
    time.sleep(0.6)
    assert call(pid, "events") == [("info", "poke")]


def test_calls_are_answered_by_reply_actions_and_stop_replies_first() -> None:
    pid = start_statem(TICKER, 100.0)
    assert call(pid, "state") == ("ticking", 100.0)
    assert call(pid, "stop") == "bye"
    wait_until(lambda: table().lookup(pid) is None, what="the exit")


def test_a_crash_in_handle_event_fails_the_call() -> None:
    pid = start_statem(TICKER, 100.0)
    with pytest.raises(CallFailed):
        call(pid, "crash")
    assert table().lookup(pid) is None


def test_timers_of_a_dead_state_machine_are_cancelled() -> None:
    pid = start_statem(TICKER, 100.0)
    proc = table().lookup(pid)
    assert proc is not None
    call(pid, "stop")
    # The exit marks the process dead, then cleans up (its timers among that): wait for both.
    wait_until(lambda: not proc.alive and proc._state_t is None, what="the exit's cleanup")
