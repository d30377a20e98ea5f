"""asgi_host's top supervisor: keeps the listener process running."""

from __future__ import annotations

from primes_runtime.supervisor import ChildSpec, SupSpec

LISTENER: ChildSpec = ChildSpec(id="listener", start=("asgi_host.listener", "start_link", ()))


def init(args: object) -> SupSpec:
    """One child: the async process that owns the socket and the uvicorn server."""
    return SupSpec(strategy="one_for_one", intensity=3, period=5.0, children=[LISTENER])
