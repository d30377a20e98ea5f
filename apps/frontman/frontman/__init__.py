"""frontman, the miner's front end: `bin/primenode rpc frontman port` prints its HTTP port."""

from __future__ import annotations

from typing import cast

from primes_runtime import call

SERVER = "frontman"
"""The name the HTTP server process is registered under."""


def port(timeout: float = 5.0) -> int:
    """The port the HTTP server listens on (127.0.0.1), useful when the config says 0."""
    return cast(int, call(SERVER, "port", timeout))
