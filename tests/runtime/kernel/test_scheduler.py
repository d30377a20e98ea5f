"""The scheduler pool grows when every worker is blocked, and shrinks back when idle."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from primes_runtime import call, start_server
from primes_runtime.kernel.context import current_node
from primes_runtime.kernel.scheduler import Scheduler
from rt_fixtures.kernel import node_thread
from rt_fixtures.waiting import wait_until

pytestmark = pytest.mark.usefixtures("node")


def test_pool_grows_when_every_worker_is_blocked() -> None:
    pool = current_node().scheduler
    blockers = pool.workers + 3
    gate = threading.Event()
    pids = [start_server("rt_fixtures.counter") for _ in range(blockers)]
    threads = [
        node_thread(target=call, args=(pid, ("wait", gate)), kwargs={"timeout": 20}) for pid in pids
    ]
    for thread in threads:
        thread.start()
    try:
        free = start_server("rt_fixtures.counter", 9)
        # Every worker it had is inside a blocked handler; the watchdog must add one.
        assert call(free, "get", timeout=10) == 9
        assert pool.workers > blockers - 3
    finally:
        gate.set()
        for thread in threads:
            thread.join(10)


class _Job:
    def __init__(self, done: threading.Event) -> None:
        self.done = done

    def run_slice(self) -> bool:
        self.done.set()
        return False


def test_idle_workers_beyond_the_minimum_exit() -> None:
    pool = Scheduler(min_workers=1, idle_timeout=0.05)
    gate = threading.Event()

    class Blocker:
        def run_slice(self) -> Any:
            gate.wait(10)
            return False

    pool.submit(Blocker())
    done = threading.Event()
    pool.submit(_Job(done))
    assert done.wait(5)  # needed a second worker
    assert pool.workers >= 2
    gate.set()
    wait_until(lambda: pool.workers == 1, what="the pool to shrink")


def test_a_worker_parked_past_its_idle_timeout_is_woken_once_per_process_and_closes_cleanly() -> (
    None
):
    """A worker at the minimum stays parked when its idle timeout passes, in one place: every
    process submitted afterwards runs, and close() wakes each parked worker once."""
    pool = Scheduler(min_workers=1, idle_timeout=0.01)
    pool.start()
    idle = pool._idle  # the parked workers' places (white box: what close() releases)
    wait_until(lambda: len(idle) == 1, what="the worker to park")
    threading.Event().wait(0.1)  # ten idle timeouts pass
    assert len(idle) == 1
    jobs = [threading.Event() for _ in range(20)]
    for done in jobs:
        pool.submit(_Job(done))
    assert all(done.wait(5) for done in jobs)
    wait_until(lambda: len(idle) == 1, what="the worker to park again")
    pool.close()
