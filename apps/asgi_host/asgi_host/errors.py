"""The one exception root of asgi_host."""

from __future__ import annotations

from primes_runtime import PrimesError


class AsgiHostError(PrimesError):
    """Bad app env (app spec, host, port) or a listener that cannot start."""
