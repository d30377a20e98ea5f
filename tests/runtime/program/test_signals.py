"""Tests for program/signals.py: a stop signal only noted in the handler, and the shutdown
begun once, on an ordinary thread, when the node exists. SIGUSR1/SIGUSR2 stand in for
SIGTERM/SIGINT (sent to this test process only)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest
from primes_runtime.program.signals import StopSignals

SIGNUMS = (signal.SIGUSR1, signal.SIGUSR2)


@pytest.fixture
def begun() -> list[tuple[int, str]]:
    return []


@pytest.fixture
def signals(begun: list[tuple[int, str]]) -> Iterator[StopSignals]:
    def begin(signum: int) -> None:
        begun.append((signum, threading.current_thread().name))

    installed = StopSignals(begin, SIGNUMS)
    installed.install()
    try:
        yield installed
    finally:
        installed.close()


def _wait_for(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_signal_once_armed_begins_the_shutdown_on_the_watcher_thread(
    signals: StopSignals, begun: list[tuple[int, str]]
) -> None:
    signals.arm()
    os.kill(os.getpid(), signal.SIGUSR1)
    _wait_for(lambda: begun)
    assert begun == [(signal.SIGUSR1, "primes-signals")]


def test_a_signal_before_the_node_exists_begins_the_shutdown_when_it_is_armed(
    signals: StopSignals, begun: list[tuple[int, str]]
) -> None:
    os.kill(os.getpid(), signal.SIGUSR2)
    _wait_for(lambda: signals.received)
    time.sleep(0.05)
    assert begun == []
    signals.arm()
    assert begun == [(signal.SIGUSR2, threading.current_thread().name)]


def test_only_the_first_of_several_signals_begins_the_shutdown(
    signals: StopSignals, begun: list[tuple[int, str]]
) -> None:
    signals.arm()
    os.kill(os.getpid(), signal.SIGUSR1)
    os.kill(os.getpid(), signal.SIGUSR2)
    _wait_for(lambda: begun)
    time.sleep(0.05)
    signals.check()
    assert [signum for signum, _ in begun] == [signal.SIGUSR1]


def test_a_signal_that_lands_while_the_main_thread_holds_a_lock_the_shutdown_needs_waits_for_it(
    begun: list[tuple[int, str]],
) -> None:
    # A handler that did the work itself would wait here, in the main thread, for the lock
    # the main thread holds: forever (a node.log record half written, a thread half started).
    held = threading.Lock()

    def begin(signum: int) -> None:
        with held:
            begun.append((signum, threading.current_thread().name))

    signals = StopSignals(begin, SIGNUMS)
    signals.install()
    try:
        signals.arm()
        with held:
            os.kill(os.getpid(), signal.SIGUSR1)
            _wait_for(lambda: signals.received)  # the handler has run, inside this block
            time.sleep(0.05)
            assert begun == []
        _wait_for(lambda: begun)
    finally:
        signals.close()
    assert begun == [(signal.SIGUSR1, "primes-signals")]


def test_close_puts_the_handlers_back(begun: list[tuple[int, str]]) -> None:
    before = [signal.getsignal(s) for s in SIGNUMS]
    signals = StopSignals(lambda signum: None, SIGNUMS)
    signals.install()
    assert [signal.getsignal(s) for s in SIGNUMS] != before
    signals.close()
    assert [signal.getsignal(s) for s in SIGNUMS] == before
