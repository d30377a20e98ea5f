"""limiter's application callback and the rpc entry points an operator uses."""

from __future__ import annotations

from primes_runtime import Pid, call, supervisor

SUP_NAME = "limiter_sup"


def start() -> Pid:
    """Start the top supervisor and with it the bucket process."""
    return supervisor.start("limiter.sup", name=SUP_NAME)


def stats() -> object:
    """What the bucket process holds (`bin/ratelimiter rpc limiter.app stats`)."""
    return call("limiter_bucket", "stats")
