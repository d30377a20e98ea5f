"""The release commands keep to one core: the last one they may use, the core a node gives
its release operation (release/cores.py), so the node's other threads keep the rest."""

from __future__ import annotations

import os
from contextlib import suppress


def keep_to_last_core() -> None:
    """Pin this process to the last core it may use (nothing where it may use one only, or
    where the OS cannot pin)."""
    with suppress(AttributeError, OSError):
        allowed = os.sched_getaffinity(0)
        if len(allowed) > 1:
            os.sched_setaffinity(0, {max(allowed)})
