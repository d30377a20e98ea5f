"""Ask the miner: `bin/primenode rpc pm largest_prime` prints the largest prime found so far."""

from __future__ import annotations

from typing import cast

from primes_runtime import call

MINER = "prime_miner"


def largest_prime(timeout: float = 5.0) -> int:
    """The largest prime the miner has found so far."""
    return cast(int, call(MINER, "largest_prime", timeout))


def count(timeout: float = 5.0) -> int:
    """How many primes the miner knows (the seed's six included)."""
    return cast(int, call(MINER, "count", timeout))


def stats(timeout: float = 5.0) -> dict[str, int]:
    """`largest_prime` and `count` read together, from one and the same state."""
    return cast(dict[str, int], call(MINER, "stats", timeout))
