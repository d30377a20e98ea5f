"""The node's use of the cycle collector: what boot made is frozen (and what each upgrade
script made, once it ends), and collected again after each install, out of the install's way.

A full collection walks every tracked object while holding the GIL (10 ms for a node of
10,000 processes): no thread serves meanwhile. Frozen objects are not walked; the price is
that a garbage cycle through a frozen object (a boot-time process that crashed, the code an
upgrade replaced) waits for the next `settle`.

gc's own walks (gc.get_objects, gc.get_referrers) do not see frozen objects either. The code
objects among them (functions, classes, generators, coroutines) are indexed by weak
reference as they are frozen, so `code_objects` lists every one of them without bringing
the heap back: one gc.get_objects over a node of 10,000 processes holds the GIL ~5 ms and
the look through its 140,000 objects takes ~15 ms more; the index holds ~16,000.
"""

from __future__ import annotations

import gc
import subprocess
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from types import AsyncGeneratorType, CoroutineType, FunctionType, GeneratorType

from ..kernel import threadstart

SETTLE_AFTER = 10.0
"""Seconds after an install before the collection that reclaims what it left behind."""

_CODE_KINDS = frozenset({FunctionType, GeneratorType, CoroutineType, AsyncGeneratorType})
"""The types whose objects run code (with classes: `code_objects`)."""
_TYPE_OR_POPEN = (type, subprocess.Popen)
"""What a freeze indexes besides _CODE_KINDS: classes, and Popens (`popens`)."""


class _Permanent:
    """gc's permanent generation as the node froze it: whether boot froze, and a weak
    reference to each code object frozen (gc can neither count nor list them unwalked)."""

    def __init__(self) -> None:
        self.froze = threading.Event()
        self.code: list[weakref.ref[object]] = []
        self.popens: list[weakref.ref[object]] = []
        """The same for subprocess.Popen objects (the reaper spares their children)."""
        self.visible = 0
        """How many `visible` blocks are open (only the outermost thaws and freezes)."""


_PERMANENT = _Permanent()
"""The runtime's one piece of module state, on purpose: it mirrors the interpreter's own
(gc's permanent generation is one per process). Changed only by the boot thread before the
node serves and, after that, under the node's release lock (every freeze is)."""


def freeze_boot() -> None:
    """Collect what boot left as garbage, then put everything alive out of the collector's
    sight (the node calls this once it serves)."""
    gc.collect()
    _freeze()
    _PERMANENT.froze.set()


def frozen() -> bool:
    """Whether objects are frozen: a node that froze at boot says so without a walk
    (gc.get_freeze_count walks every frozen object, holding the GIL: milliseconds in a
    node of 10,000 processes); any other process counts them."""
    return _PERMANENT.froze.is_set() or gc.get_freeze_count() > 0


def code_objects() -> list[object]:
    """Every function, class, generator, coroutine and async generator alive in this
    process. In a node that froze at boot: the index of frozen ones and a walk of the young
    ones only; elsewhere (something else froze) the frozen ones are brought back for it."""
    if not _PERMANENT.froze.is_set():
        with visible():
            return _code_kinds(gc.get_objects())
    return _with(_code_kinds(gc.get_objects()), _PERMANENT.code)


def popens() -> list[object]:
    """Every subprocess.Popen alive in this process, as `code_objects` lists code (without
    a thaw, so without the node's release lock: the reaper's thread asks)."""
    if not _PERMANENT.froze.is_set():
        return _popens(gc.get_objects())  # (nothing frozen to miss, or not by the node)
    return _with(_popens(gc.get_objects()), _PERMANENT.popens)


def _with(found: list[object], index: list[weakref.ref[object]]) -> list[object]:
    """`found` (what gc's walk saw: everything, while a `visible` block has the heap back)
    and the live objects of `index` it does not hold yet."""
    seen = {id(o) for o in found}
    for ref in index:
        obj = ref()
        if obj is not None and id(obj) not in seen:
            found.append(obj)
    return found


@contextmanager
def visible() -> Iterator[None]:
    """Frozen objects are seen by gc's walks (gc.get_referrers) meanwhile; what is alive
    is frozen again after (and its code objects indexed). Only the outermost block of
    nested ones thaws and freezes: 3.12's collections move immortal objects into the
    permanent generation, which an inner block would take for a frozen heap to freeze
    again at its end, in the middle of the outer one's walk."""
    thawed = _PERMANENT.visible == 0 and frozen()
    if thawed:
        gc.unfreeze()
    _PERMANENT.visible += 1
    try:
        yield
    finally:
        _PERMANENT.visible -= 1
        if thawed:
            _freeze()


def enable_after_script() -> None:
    """Turn the collector back on after an upgrade script kept it off. In a node that froze
    at boot, what is alive is frozen first: the script's objects (10,000 new states, say)
    would otherwise all be young, and the first collection would walk them at once, holding
    the GIL (~7 ms); the settle after the install (or its undoing) reclaims their garbage."""
    if _PERMANENT.froze.is_set():
        _freeze()
    gc.enable()


def thaw() -> None:
    """Bring every frozen object back for good (a test that froze)."""
    _PERMANENT.froze.clear()
    _PERMANENT.code = []
    _PERMANENT.popens = []
    gc.unfreeze()


def settle() -> None:
    """Bring the frozen objects back, collect everything, freeze what is left; nothing to do
    in a process whose boot froze nothing (tests, tools), even if something else froze: a
    settle timer left by an earlier install in a test process would freeze the heap in the
    middle of another test's heap walk."""
    if not _PERMANENT.froze.is_set():
        return
    gc.unfreeze()
    gc.collect()
    _freeze()


def _freeze() -> None:
    """Index the code objects gc can see (the young ones; all of them once the heap is
    back), keep the index's live entries, freeze."""
    objects = gc.get_objects()
    found = [o for o in objects if type(o) in _CODE_KINDS or isinstance(o, _TYPE_OR_POPEN)]
    del objects  # one walk of the young objects for both indexes (10 ms per walk at 10,000
    # processes' new states), then the few found sorted out
    _PERMANENT.code = _indexed(_PERMANENT.code, _code_kinds(found))
    _PERMANENT.popens = _indexed(_PERMANENT.popens, _popens(found))
    gc.freeze()


def _indexed(index: list[weakref.ref[object]], young: list[object]) -> list[weakref.ref[object]]:
    """`index`'s live entries and a weak reference to each of `young` not in it."""
    seen = {id(o) for o in young}
    kept = [r for r in index if id(r()) not in seen and r() is not None]
    kept.extend(weakref.ref(o) for o in young)
    return kept


def _popens(objects: list[object]) -> list[object]:
    return [o for o in objects if isinstance(o, subprocess.Popen)]


def _code_kinds(objects: list[object]) -> list[object]:
    """The functions, generators, coroutines and classes among ``objects`` (one
    comprehension over a node's heap takes half the time of a call per object)."""
    return [o for o in objects if type(o) in _CODE_KINDS or isinstance(o, type)]


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
