"""The miner as a running process: queried through `pm`, mining on, code_change applied live."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pm
import pytest
from prime_miner import miner
from primes_runtime import Pid, call, code_server, stop
from primes_runtime.system import change_code, resume, suspend

pytestmark = pytest.mark.usefixtures("node")

DEADLINE = 10.0  # seconds; generous, for slow and noisy CI machines


@pytest.fixture
def fast_miner() -> Iterator[Pid]:
    pid = miner.start_link({"interval": 0.02})
    yield pid
    stop(pid)


@pytest.fixture
def idle_miner() -> Iterator[Pid]:
    """A miner that mines its first prime at once and then not again for a minute."""
    pid = miner.start_link({"interval": 60.0})
    yield pid
    stop(pid)


def wait_for_count(at_least: int) -> int:
    """Poll `pm.count()` as fast as possible until it reaches `at_least`."""
    give_up = time.monotonic() + DEADLINE
    while (n := pm.count()) < at_least:
        assert time.monotonic() < give_up, f"the miner stopped at {n} primes"
    return n


def upgrade(pid: Pid, old_vsn: object, extra: object) -> None:
    """What the release handler does for `update prime_miner.miner`: suspend, swap, resume."""
    suspend(pid, 5.0)
    change_code(pid, code_server.current("prime_miner.miner"), old_vsn, extra)
    resume(pid)


def first_primes(n: int) -> list[int]:
    primes = [2]
    while len(primes) < n:
        primes.append(miner.next_prime(primes))
    return primes


def test_pm_answers_the_largest_prime_and_the_count_of_one_state(fast_miner: Pid) -> None:
    stats = pm.stats()
    assert stats["largest_prime"] == first_primes(stats["count"])[-1]
    assert pm.count() >= stats["count"]
    assert pm.largest_prime() >= stats["largest_prime"]


def test_mining_goes_on_while_a_client_polls_as_fast_as_it_can(fast_miner: Pid) -> None:
    wait_for_count(pm.count() + 10)


def test_code_change_from1to2_mines_every_100_ms_from_the_moment_it_resumes(
    idle_miner: Pid,
) -> None:
    before = wait_for_count(len(miner.SEED) + 1)
    upgrade(idle_miner, "1", "from1to2")
    assert call(miner.NAME, "interval") == miner.V2_INTERVAL
    wait_for_count(before + 5)


def test_code_change_from2to1_goes_back_to_10_s_and_keeps_every_prime(fast_miner: Pid) -> None:
    wait_for_count(len(miner.SEED) + 3)
    upgrade(fast_miner, ("down", "1"), "from2to1")
    assert call(miner.NAME, "interval") == miner.V1_INTERVAL
    stats = pm.stats()
    assert stats["count"] >= len(miner.SEED) + 3
    assert stats["largest_prime"] == first_primes(stats["count"])[-1]
    assert pm.stats() == stats  # the next prime is 10 s away
