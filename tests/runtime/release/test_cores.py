"""Tests for release/cores.py: a release operation keeps to the last core, the process's other
threads to the rest, and every thread has its cores back afterwards."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from primes_runtime.release.cores import apart

ALLOWED = os.sched_getaffinity(0)
two_cores = pytest.mark.skipif(len(ALLOWED) < 2, reason="pinning apart needs two cores")


class _Idle:
    """A thread that waits until told, and can say its cores meanwhile."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.thread = threading.Thread(target=self.go.wait, daemon=True)
        self.thread.start()

    @property
    def cores(self) -> set[int]:
        assert self.thread.native_id is not None
        return os.sched_getaffinity(self.thread.native_id)


@pytest.fixture
def other() -> Iterator[_Idle]:
    idle = _Idle()
    yield idle
    idle.go.set()
    idle.thread.join()


@two_cores
def test_the_caller_keeps_to_the_last_core_the_others_to_the_rest_and_all_get_theirs_back(
    other: _Idle,
) -> None:
    last = max(ALLOWED)
    with apart():
        assert os.sched_getaffinity(0) == {last}
        assert other.cores == ALLOWED - {last}
    assert os.sched_getaffinity(0) == ALLOWED
    assert other.cores == ALLOWED


@two_cores
def test_threads_started_inside_get_the_callers_cores_afterwards() -> None:
    ask, started = threading.Event(), []
    spawner = threading.Thread(target=lambda: ask.wait() and started.append(_Idle()))
    spawner.start()  # a thread of the process before the operation, as a node's are
    with apart():
        mine = _Idle()  # started by the caller: on its core
        ask.set()
        spawner.join()  # started by another thread: on the rest
        assert mine.cores == {max(ALLOWED)}
        assert started[0].cores == ALLOWED - {max(ALLOWED)}
    try:
        assert mine.cores == ALLOWED and started[0].cores == ALLOWED
    finally:
        for idle in (mine, *started):
            idle.go.set()


def test_a_caller_allowed_one_core_pins_nothing(other: _Idle) -> None:
    one = {min(ALLOWED)}
    seen: list[set[int]] = []

    def run() -> None:
        os.sched_setaffinity(0, one)
        with apart():
            seen.extend([os.sched_getaffinity(0), other.cores])

    caller = threading.Thread(target=run)
    caller.start()
    caller.join()
    assert seen == [one, ALLOWED]
