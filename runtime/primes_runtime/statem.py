"""Public: the state machine behaviour (gen_statem) (the code is in behaviours/statem.py).

App code imports this module: its path and names stay the same across runtime versions, as a
node hands over to a newer runtime with the same app code.
"""

from .behaviours.statem import (
    EVENT_TIMEOUT,
    STATE_TIMEOUT,
    Action,
    Call,
    EventTimeout,
    Keep,
    Next,
    Reply,
    StatemProcess,
    StateTimeout,
    Stop,
    start,
)

__all__ = [
    "EVENT_TIMEOUT",
    "STATE_TIMEOUT",
    "Action",
    "Call",
    "EventTimeout",
    "Keep",
    "Next",
    "Reply",
    "StateTimeout",
    "StatemProcess",
    "Stop",
    "start",
]
