"""Public: async servers on the node's event loop (the code is in behaviours/aioserver.py).

App code imports this module: its path and names stay the same across runtime versions, as a
node hands over to a newer runtime with the same app code.
"""

from .behaviours.aioserver import (
    INIT_TIMEOUT,
    SLICE,
    AsyncServerProcess,
    start,
)

__all__ = [
    "INIT_TIMEOUT",
    "SLICE",
    "AsyncServerProcess",
    "start",
]
