"""While a release operation works, it keeps to one core and the node's other threads to the
rest, so a client of a process the operation does not touch is not queued behind it.

On 2 cores, a thread of the node woken for a request was queued up to 4 ms behind the release
thread's Python (or the `upgrade` command's start) while the other core idled (perf sched;
docs/benchmarks.md). The release thread, the threads and processes it starts meanwhile and
the warm child take the last core this node may use; every other thread the rest; the
release commands keep to the last core of their own (`keep_to_last_core`, from the CLI).
Nothing changes where one core only may be used, or where the OS cannot pin threads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress


def keep_to_last_core() -> None:
    """Pin the calling thread (a release command's only one, before it starts any: the
    threads it starts later follow) to the last core it may use, the core its node gives the
    operation (nothing where it may use one only)."""
    allowed = _affinity(0)
    if allowed is not None and len(allowed) > 1:
        _pin(0, {_last(allowed)})


@contextmanager
def apart(warm_pid: int | None = None) -> Iterator[None]:
    """Pin the calling thread (and the warm child `warm_pid`) to the last allowed core, the
    process's other threads to the others; put each back as it was afterwards (a thread
    started meanwhile gets what the calling thread had)."""
    import threading  # here: the CLI's lean path imports this module for keep_to_last_core

    allowed = _affinity(0)
    if allowed is None or len(allowed) < 2:
        yield
        return
    mine, me = {_last(allowed)}, threading.get_native_id()
    saved = {tid: _affinity(tid) for tid in _threads() if tid != me}
    for tid in saved:
        _pin(tid, allowed - mine)
    _pin(me, mine)
    if warm_pid is not None:
        _pin(warm_pid, mine)
    try:
        yield
    finally:
        _pin(me, allowed)
        if warm_pid is not None:
            _pin(warm_pid, allowed)
        for tid in _threads():
            if tid != me:
                _pin(tid, saved.get(tid) or allowed)


def _last(allowed: set[int]) -> int:
    """The core a release operation and its command keep to, of the cores `allowed`."""
    return max(allowed)


def _threads() -> list[int]:
    """Every thread of this process (those no threading.Thread stands for too)."""
    import threading

    try:
        return [int(name) for name in os.listdir("/proc/self/task")]
    except OSError:
        return [t.native_id for t in threading.enumerate() if t.native_id is not None]


def _affinity(tid: int) -> set[int] | None:
    try:
        return os.sched_getaffinity(tid)
    except (AttributeError, OSError):  # no such call here, or the thread is gone
        return None


def _pin(tid: int, cores: set[int]) -> None:
    with suppress(AttributeError, OSError):  # gone meanwhile, or a core taken away (cpuset)
        os.sched_setaffinity(tid, cores)
