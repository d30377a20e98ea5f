"""primes' application callback: start its (empty) top supervisor."""

from __future__ import annotations

from primes_runtime import Pid, supervisor

SUP_NAME = "primes_sup"


def start() -> Pid:
    """Start the empty top supervisor; return its pid."""
    return supervisor.start("primes.sup", name=SUP_NAME)
