"""Public: the server behaviour (gen_server) (the code is in behaviours/server.py).

App code imports this module: its path and names stay the same across runtime versions, as a
node hands over to a newer runtime with the same app code.
"""

from .behaviours.server import (
    NO_REPLY,
    NoReply,
    Reply,
    ServerProcess,
    Stop,
    start,
)

__all__ = [
    "NO_REPLY",
    "NoReply",
    "Reply",
    "ServerProcess",
    "Stop",
    "start",
]
