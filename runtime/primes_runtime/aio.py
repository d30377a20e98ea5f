"""Public: async helpers for code on the node's event loop (the code is in behaviours/aio.py).

App code imports this module: its path and names stay the same across runtime versions, as a
node hands over to a newer runtime with the same app code.
"""

from .behaviours.aio import (
    AsyncCaller,
    async_call,
    blocking,
)

__all__ = [
    "AsyncCaller",
    "async_call",
    "blocking",
]
