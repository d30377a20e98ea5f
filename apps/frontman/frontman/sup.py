"""frontman's top supervisor: keeps the HTTP server process running."""

from __future__ import annotations

from primes_runtime.supervisor import ChildSpec, SupSpec

SERVER: ChildSpec = ChildSpec(id="server", start=("frontman.server", "start_link", ()))


def init(args: object) -> SupSpec:
    """One child, the server process that owns the listening socket."""
    return SupSpec(strategy="one_for_one", intensity=3, period=5.0, children=[SERVER])
