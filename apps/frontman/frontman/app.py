"""frontman's application callback: start its top supervisor."""

from __future__ import annotations

from primes_runtime import Pid, supervisor

SUP_NAME = "frontman_sup"


def start() -> Pid:
    """Start the top supervisor (and with it the HTTP server); return its pid."""
    return supervisor.start("frontman.sup", name=SUP_NAME)
