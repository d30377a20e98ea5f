"""The miner's pure parts: next_prime, its events and code_change, without a running node."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from prime_miner import miner
from prime_miner.errors import MinerError
from prime_miner.miner import MinerData
from primes_runtime.statem import Keep, Next, StateTimeout


def data(primes: list[int], interval: float = 10.0) -> MinerData:
    return MinerData(primes=primes, interval=interval)


def timeouts(actions: Iterable[object]) -> list[tuple[float, object]]:
    """The (seconds, content) of each StateTimeout among `actions`."""
    return [(a.seconds, a.content) for a in actions if isinstance(a, StateTimeout)]


def test_next_prime_computes_5_after_2_and_3() -> None:
    assert miner.next_prime([2, 3]) == 5


def test_next_prime_computes_7_after_2_3_and_5() -> None:
    assert miner.next_prime([2, 3, 5]) == 7


def test_next_prime_after_the_seed_is_17() -> None:
    assert miner.next_prime(list(miner.SEED)) == 17


def test_next_prime_skips_a_run_of_composites() -> None:
    assert miner.next_prime([2, 3, 5, 7, 11, 13, 17, 19, 23]) == 29


def test_next_prime_finds_the_first_hundred_primes() -> None:
    primes = [2]
    while len(primes) < 100:
        primes.append(miner.next_prime(primes))
    assert primes[-1] == 541
    assert all(all(p % d for d in range(2, p)) for p in primes)


def test_init_seeds_the_primes_and_mines_at_once() -> None:
    result = miner.init({"interval": 2.5})
    assert isinstance(result, Next)
    assert result.data == {"primes": [2, 3, 5, 7, 11, 13], "interval": 2.5}
    assert timeouts(result.actions) == [(0.0, miner.MINE)]


def test_init_refuses_an_interval_that_is_not_a_positive_number() -> None:
    with pytest.raises(MinerError, match=r"\[node.env.prime_miner\] interval"):
        miner.init({"interval": "fast"})


def test_a_state_timeout_mines_one_prime_and_rearms_with_the_interval() -> None:
    before = data([2, 3, 5, 7, 11, 13], interval=0.5)
    result = miner.handle_event("state_timeout", miner.MINE, miner.MINING, before)
    assert isinstance(result, Next)
    assert result.data["primes"] == [2, 3, 5, 7, 11, 13, 17]
    assert timeouts(result.actions) == [(0.5, miner.MINE)]
    assert before["primes"] == [2, 3, 5, 7, 11, 13]


def test_answers_largest_prime_count_and_stats_from_the_data() -> None:
    d = data([2, 3, 5, 7, 11, 13, 17])
    assert miner.answer("largest_prime", d) == 17
    assert miner.answer("count", d) == 7
    assert miner.answer("stats", d) == {"largest_prime": 17, "count": 7}


def test_an_unknown_query_gets_an_error_value_not_a_crash() -> None:
    assert miner.answer("give me money", data([2, 3])) == miner.UNKNOWN_REQUEST


def test_other_events_keep_the_data_and_leave_the_mining_timer_alone() -> None:
    d = data([2, 3])
    result = miner.handle_event("info", "hello", miner.MINING, d)
    assert isinstance(result, Keep)
    assert result.data is d
    assert timeouts(result.actions) == []


def test_code_change_from1to2_mines_every_100_ms_at_once() -> None:
    old = data([2, 3, 5, 7, 11, 13, 17], interval=10.0)
    result = miner.code_change("1", miner.MINING, old, "from1to2")
    assert result.data == {"primes": [2, 3, 5, 7, 11, 13, 17], "interval": 0.1}
    assert timeouts(result.actions) == [(0.1, miner.MINE)]


def test_code_change_from2to1_mines_every_10_s_again() -> None:
    old = data([2, 3, 5, 7, 11, 13, 17, 19], interval=0.1)
    result = miner.code_change(("down", "1"), miner.MINING, old, "from2to1")
    assert result.data == {"primes": [2, 3, 5, 7, 11, 13, 17, 19], "interval": 10.0}
    assert timeouts(result.actions) == [(10.0, miner.MINE)]


def test_code_change_leaves_the_old_data_untouched_for_a_rollback() -> None:
    old = data([2, 3, 5], interval=10.0)
    result = miner.code_change("1", miner.MINING, old, "from1to2")
    assert result.data is not old
    assert old == {"primes": [2, 3, 5], "interval": 10.0}


def test_code_change_shares_the_primes_instead_of_copying_them() -> None:
    # a copy would make the upgrade's pause grow with the number of primes
    old = data([2, 3, 5], interval=10.0)
    result = miner.code_change("1", miner.MINING, old, "from1to2")
    assert result.data["primes"] is old["primes"]


def test_code_change_without_extra_keeps_the_interval_and_the_timer() -> None:
    result = miner.code_change("1", miner.MINING, data([2, 3], interval=3.0), None)
    assert result.data == {"primes": [2, 3], "interval": 3.0}
    assert timeouts(result.actions) == []


def test_code_change_refuses_an_unknown_extra_so_the_upgrade_rolls_back() -> None:
    with pytest.raises(MinerError, match="from1to2"):
        miner.code_change("1", miner.MINING, data([2, 3]), "from7to8")


def sieve(limit: int) -> list[int]:
    flags = bytearray([1]) * (limit + 1)
    flags[0:2] = b"\x00\x00"
    for n in range(2, int(limit**0.5) + 1):
        if flags[n]:
            flags[n * n :: n] = bytearray(len(flags[n * n :: n]))
    return [n for n in range(limit + 1) if flags[n]]


def test_mining_in_slices_finds_the_same_primes_as_next_prime(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[object] = []
    monkeypatch.setattr(miner, "send", lambda dest, msg: sent.append(msg))
    current = data(list(miner.SEED), interval=1.0)
    found: list[int] = []
    while len(found) < 30:
        result = miner.mine(current, budget=3)
        if isinstance(result, Next):
            found.append(result.data["primes"][-1])
            assert "candidate" not in result.data
        current = result.data
    expected = list(miner.SEED)
    for _ in range(30):
        expected.append(miner.next_prime(expected))
    assert found == expected[6:]
    assert sent and set(sent) == {miner.MINE_MORE}


def test_a_candidate_too_big_for_one_slice_goes_on_in_the_next_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[object] = []
    monkeypatch.setattr(miner, "send", lambda dest, msg: sent.append(msg))
    primes = sieve(300_000)  # ~26,000 primes: more divisions than one slice
    result = miner.handle_event("state_timeout", miner.MINE, miner.MINING, data(primes))
    assert isinstance(result, Keep)
    assert sent == [miner.MINE_MORE]
    assert result.data["primes"] is primes and result.data["checked"] > 0
    # a query in between is answered from the primes held so far
    assert miner.answer("count", result.data) == len(primes)
    finished: Next | Keep = result
    for _ in range(len(primes)):  # each MINE_MORE message does one more slice
        finished = miner.handle_event("info", miner.MINE_MORE, miner.MINING, finished.data)
        if isinstance(finished, Next):
            break
    assert isinstance(finished, Next)
    assert finished.data["primes"][-1] == sieve(300_100)[len(primes)]


def test_a_state_timeout_while_a_candidate_is_half_tried_starts_no_second_round() -> None:
    half = MinerData(primes=[2, 3, 5], interval=1.0, candidate=7, checked=1)
    result = miner.handle_event("state_timeout", miner.MINE, miner.MINING, half)
    assert isinstance(result, Keep) and result.data is half


def test_code_change_of_a_half_tried_candidate_keeps_it_and_leaves_the_timer_to_it() -> None:
    half = MinerData(primes=[2, 3, 5], interval=10.0, candidate=7, checked=1)
    result = miner.code_change("1", miner.MINING, half, "from1to2")
    assert result.data == {"primes": [2, 3, 5], "interval": 0.1, "candidate": 7, "checked": 1}
    assert timeouts(result.actions) == []


def test_a_hand_over_exports_the_primes_and_interval_and_leaves_a_half_tried_candidate() -> None:
    data = MinerData(primes=[2, 3, 5], interval=0.1, candidate=6, checked=1)
    exported = miner.export_state((miner.MINING, data, None, None, ()))
    assert exported == {"primes": [2, 3, 5], "interval": 0.1}
    assert miner.import_state(exported) == (miner.MINING, {"primes": [2, 3, 5], "interval": 0.1})
