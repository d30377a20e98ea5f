"""Timers: send_after delivers later; cancel stops it."""

from __future__ import annotations

import threading

import pytest
from primes_runtime import call, cancel_timer, send_after, start_server
from primes_runtime.kernel.context import current_node
from rt_fixtures.waiting import wait_until

pytestmark = pytest.mark.usefixtures("node")


def test_send_after_delivers_a_plain_message() -> None:
    pid = start_server("rt_fixtures.counter")
    send_after(0.02, pid, "ping")
    wait_until(lambda: call(pid, "seen") == [("info", "ping")], what="the timed message")


def test_send_after_by_name_resolves_when_it_fires() -> None:
    send_after(0.05, "timers_test_late", "hello")
    pid = start_server("rt_fixtures.counter", name="timers_test_late")
    wait_until(lambda: call(pid, "seen") == [("info", "hello")], what="the timed message")


def test_cancel_before_it_fires_returns_true_and_nothing_arrives() -> None:
    fired = threading.Event()
    ref = current_node().timers.start(0.2, fired.set)
    assert cancel_timer(ref) is True
    assert not fired.wait(0.4)


def test_cancel_after_it_fired_returns_false() -> None:
    fired = threading.Event()
    ref = current_node().timers.start(0.0, fired.set)
    assert fired.wait(5)
    assert cancel_timer(ref) is False


def test_timers_fire_in_deadline_order() -> None:
    order: list[int] = []
    done = threading.Event()
    current_node().timers.start(0.06, lambda: (order.append(3), done.set()))
    current_node().timers.start(0.02, lambda: order.append(1))
    current_node().timers.start(0.04, lambda: order.append(2))
    assert done.wait(5)
    assert order == [1, 2, 3]
