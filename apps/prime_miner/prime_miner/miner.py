"""The miner: a registered state machine that finds the next prime on every interval."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, NotRequired, TypedDict, cast

from primes_runtime import Pid, app_env, self_pid, send, start_statem
from primes_runtime.statem import Call, Keep, Next, Reply, StateTimeout

from prime_miner.errors import MinerError

NAME: Final = "prime_miner"
"""The name the miner is registered under (what `pm` calls)."""

SEED: Final = (2, 3, 5, 7, 11, 13)
V1_INTERVAL: Final = 10.0
V2_INTERVAL: Final = 0.1
MINING: Final = "mining"
MINE: Final = "mine"
MINE_MORE: Final = "mine_more"
SLICE: Final = 5_000
"""Divisions one mining message may do. A candidate that needs more goes on in the next
message (sent to itself), so queries are answered in between, however many primes there
are: with 200,000 primes one candidate takes ~10 ms of divisions, in ~0.3 ms slices."""
UNKNOWN_REQUEST: Final = ("error", "unknown_request")

EXTRA_INTERVALS: Final[Mapping[str, float]] = {"from1to2": V2_INTERVAL, "from2to1": V1_INTERVAL}
"""code_change extras and the mining interval each one sets."""


class MinerData(TypedDict):
    """The miner's data: plain values only, so it survives any code version."""

    primes: list[int]  # ascending; the last one is the largest
    interval: float  # seconds between two mining rounds
    candidate: NotRequired[int]  # only while a candidate is half tried: the number
    checked: NotRequired[int]  # ... and how many of the primes it was divided by so far


def start_link(args: object = None) -> Pid:
    """Start the miner registered as `prime_miner` (the supervisor's child start)."""
    return start_statem(__name__, args, name=NAME)


def next_prime(primes: list[int]) -> int:
    """The smallest number above the largest of `primes` that none of them divides.

    Deliberately costly, as in the seed: every candidate is divided by every prime so far.
    """
    candidate = primes[-1] + 1
    while any(candidate % p == 0 for p in primes):
        candidate += 1
    return candidate


def init(args: object) -> Next:
    """Seed the primes; mine the first one at once, then every `interval` seconds.

    `args` may be a mapping with an `interval` (tests); otherwise the app env's applies.
    """
    if isinstance(args, Mapping) and "interval" in args:
        value = args["interval"]
    else:
        value = app_env("prime_miner", "interval", V1_INTERVAL)
    data = MinerData(primes=list(SEED), interval=seconds(value))
    return Next(MINING, data, [StateTimeout(0.0, MINE)])


def seconds(value: object) -> float:
    """The `interval` setting as a positive number of seconds, or one clear error."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise MinerError(
            f"prime_miner: app env `interval` must be a positive number of seconds, got {value!r};"
            " fix [node.env.prime_miner] interval in primes.toml"
        )
    return float(value)


def handle_event(kind: str, content: object, state: str, data: MinerData) -> Next | Keep:
    """Mine on the state timeout; answer queries without touching the mining timer."""
    if kind == "state_timeout" and "candidate" not in data:
        return mine(data)
    if kind == "info" and content == MINE_MORE and "candidate" in data:
        return mine(data)
    if kind == "call" and isinstance(content, Call):
        return Keep(data, [Reply(content.caller, answer(content.request, data))])
    return Keep(data)


def mine(data: MinerData, budget: int = SLICE) -> Next | Keep:
    """Go on finding the next prime for at most `budget` divisions.

    Found: the primes grow and the timer re-arms with the interval. Not yet: the progress
    is kept in the data and a MINE_MORE message to itself goes behind any queued query.
    """
    primes = data["primes"]
    candidate = data.get("candidate", primes[-1] + 1)
    checked = data.get("checked", 0)
    while budget > 0:
        end = min(len(primes), checked + budget)
        divisor = next(
            (i for i, p in enumerate(primes[checked:end], checked) if candidate % p == 0), None
        )
        if divisor is not None:  # composite: on to the next candidate
            budget -= divisor - checked + 1
            candidate, checked = candidate + 1, 0
            continue
        budget -= end - checked
        checked = end
        if checked == len(primes):
            mined = MinerData(primes=[*primes, candidate], interval=data["interval"])
            return Next(MINING, mined, [StateTimeout(mined["interval"], MINE)])
    send(self_pid() or NAME, MINE_MORE)
    progress = MinerData(
        primes=primes, interval=data["interval"], candidate=candidate, checked=checked
    )
    return Keep(progress)


def answer(request: object, data: MinerData) -> object:
    """The reply to one query; an unknown query gets a value, never a crash (state is precious)."""
    primes = data["primes"]
    match request:
        case "largest_prime":
            return primes[-1]
        case "count":
            return len(primes)
        case "stats":
            return {"largest_prime": primes[-1], "count": len(primes)}
        case "interval":
            return data["interval"]
        case _:
            return UNKNOWN_REQUEST


def export_state(snapshot: tuple[object, ...]) -> dict[str, object]:
    """For a hand-over: the primes and the interval (plain data). A half-tried candidate is
    left out: its MINE_MORE message stays behind, so the successor starts it afresh."""
    data = cast(MinerData, snapshot[1])
    return {"primes": list(data["primes"]), "interval": data["interval"]}


def import_state(exported: dict[str, object]) -> tuple[str, MinerData]:
    """In the successor: mining, with the primes and interval the old node had (its init
    armed the timer that mines the next one)."""
    primes = cast(list[int], exported["primes"])
    return MINING, MinerData(primes=list(primes), interval=seconds(exported["interval"]))


def code_change(old_vsn: object, state: str, data: MinerData, extra: object) -> Next:
    """Return new data (the old stays untouched for a rollback) with the interval `extra` sets.

    The primes list is shared, not copied: no code ever mutates it (mining builds a new
    one), and a copy would make the upgrade's pause grow with the number of primes.

    `from1to2` mines every 100 ms, `from2to1` every 10 s, and the new interval applies at
    once (or as soon as a half-tried candidate is done); no extra keeps the interval and the
    running timer. Like the seed, the old version
    does not matter, only `extra`.
    """
    if extra is None:
        return Next(state, MinerData(**data))
    if not isinstance(extra, str) or extra not in EXTRA_INTERVALS:
        known = ", ".join(sorted(EXTRA_INTERVALS))
        raise MinerError(f"prime_miner.miner: unknown code_change extra {extra!r}; use {known}")
    interval = EXTRA_INTERVALS[extra]
    changed = MinerData(**data)
    changed["interval"] = interval
    if "candidate" in data:  # a candidate is half tried: its last slice re-arms the timer
        return Next(state, changed)
    return Next(state, changed, [StateTimeout(interval, MINE)])
