"""The miner: a registered state machine that finds the next prime on every interval."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypedDict

from primes_runtime import Pid, app_env, start_statem
from primes_runtime.statem import Call, Keep, Next, Reply, StateTimeout

from prime_miner.errors import MinerError

NAME: Final = "prime_miner"
"""The name the miner is registered under (what `pm` calls)."""

SEED: Final = (2, 3, 5, 7, 11, 13)
V1_INTERVAL: Final = 10.0
V2_INTERVAL: Final = 0.1
MINING: Final = "mining"
MINE: Final = "mine"
UNKNOWN_REQUEST: Final = ("error", "unknown_request")

EXTRA_INTERVALS: Final[Mapping[str, float]] = {"from1to2": V2_INTERVAL, "from2to1": V1_INTERVAL}
"""code_change extras and the mining interval each one sets."""


class MinerData(TypedDict):
    """The miner's data: plain values only, so it survives any code version."""

    primes: list[int]  # ascending; the last one is the largest
    interval: float  # seconds between two mining rounds


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
    if kind == "state_timeout":
        primes = data["primes"]
        mined = MinerData(primes=[*primes, next_prime(primes)], interval=data["interval"])
        return Next(MINING, mined, [StateTimeout(mined["interval"], MINE)])
    if kind == "call" and isinstance(content, Call):
        return Keep(data, [Reply(content.caller, answer(content.request, data))])
    return Keep(data)


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


def code_change(old_vsn: object, state: str, data: MinerData, extra: object) -> Next:
    """Return new data (the old stays untouched for a rollback) with the interval `extra` sets.

    The primes list is shared, not copied: no code ever mutates it (mining builds a new
    one), and a copy would make the upgrade's pause grow with the number of primes.

    `from1to2` mines every 100 ms, `from2to1` every 10 s, and the new interval applies at
    once; no extra keeps the interval and the running timer. Like the seed, the old version
    does not matter, only `extra`.
    """
    primes = data["primes"]
    if extra is None:
        return Next(state, MinerData(primes=primes, interval=data["interval"]))
    if not isinstance(extra, str) or extra not in EXTRA_INTERVALS:
        known = ", ".join(sorted(EXTRA_INTERVALS))
        raise MinerError(f"prime_miner.miner: unknown code_change extra {extra!r}; use {known}")
    interval = EXTRA_INTERVALS[extra]
    return Next(state, MinerData(primes=primes, interval=interval), [StateTimeout(interval, MINE)])
