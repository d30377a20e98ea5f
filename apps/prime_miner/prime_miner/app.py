"""prime_miner's application callback: start its top supervisor."""

from __future__ import annotations

from primes_runtime import Pid, supervisor

SUP_NAME = "prime_miner_sup"


def start() -> Pid:
    """Start the top supervisor (and with it the miner); return its pid."""
    return supervisor.start("prime_miner.sup", name=SUP_NAME)
