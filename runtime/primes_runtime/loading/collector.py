"""The node's use of the cycle collector: what boot made is frozen (and what each upgrade
script made, once it ends), and collected again after each install, out of the install's way.

A full collection walks every tracked object while holding the GIL (10 ms for a node of
10,000 processes): no thread serves meanwhile. Frozen objects are not walked; the price is
that a garbage cycle through a frozen object (a boot-time process that crashed, the code an
upgrade replaced) waits for the next `settle`.
"""

from __future__ import annotations

import gc
import threading
from contextlib import AbstractContextManager

from ..kernel import threadstart

SETTLE_AFTER = 10.0
"""Seconds after an install before the collection that reclaims what it left behind."""

_FROZE = threading.Event()
"""Set once the node froze what boot made (it keeps what is alive frozen from then on). The
runtime's one piece of module state, on purpose: it mirrors the interpreter's own (gc's
permanent generation is one per process), which gc can only count by walking it."""


def freeze_boot() -> None:
    """Collect what boot left as garbage, then put everything alive out of the collector's
    sight (the node calls this once it serves)."""
    gc.collect()
    gc.freeze()
    _FROZE.set()


def frozen() -> bool:
    """Whether objects are frozen: a node that froze at boot says so without a walk
    (gc.get_freeze_count walks every frozen object, holding the GIL: milliseconds in a
    node of 10,000 processes); any other process counts them."""
    return _FROZE.is_set() or gc.get_freeze_count() > 0


def enable_after_script() -> None:
    """Turn the collector back on after an upgrade script kept it off. In a node that froze
    at boot, what is alive is frozen first: the script's objects (10,000 new states, say)
    would otherwise all be young, and the first collection would walk them at once, holding
    the GIL (~7 ms); the settle after the install (or its undoing) reclaims their garbage."""
    if _FROZE.is_set():
        gc.freeze()
    gc.enable()


def thaw() -> None:
    """Bring every frozen object back for good (a test that froze)."""
    _FROZE.clear()
    gc.unfreeze()


def settle() -> None:
    """Bring the frozen objects back, collect everything, freeze what is left; nothing to do
    in a process whose boot froze nothing (tests, tools), even if something else froze: a
    settle timer left by an earlier install in a test process would freeze the heap in the
    middle of another test's heap walk."""
    if not _FROZE.is_set():
        return
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def settle_later(
    guard: AbstractContextManager[object], delay: float = SETTLE_AFTER
) -> threading.Timer | None:
    """`settle` on a daemon timer thread `delay` seconds from now, inside ``guard`` (the
    node's release lock: a check for old code walks the heap unfrozen, and a freeze in the
    middle would hide objects from it); None when no thread can start (logged): the garbage
    then waits for a later install's settle."""

    def guarded() -> None:
        with guard:
            settle()

    timer = threading.Timer(delay, guarded)
    timer.name = "primes-collector"
    timer.daemon = True
    if not threadstart.started(timer, "its garbage waits for the next install"):
        return None
    return timer
