"""While a release operation works, it keeps to one core and the node's other threads to the
rest, so a client of a process the operation does not touch is not queued behind it.

On 2 cores, a thread of the node woken for a request was queued up to 4 ms behind the release
thread's Python (or the `upgrade` command's start) while the other core idled (perf sched;
docs/benchmarks.md). The release thread, the threads and processes it starts meanwhile and
the warm child take the last core this node may use; every other thread the rest; the
`upgrade` command keeps to the last core of its own (cli/fast.py). Nothing changes where the
node may use one core only, or where the OS cannot pin threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


@contextmanager
def apart(warm_pid: int | None = None) -> Iterator[None]:
    """Pin the calling thread (and the warm child `warm_pid`) to the last allowed core, the
    process's other threads to the others; put each back as it was afterwards (a thread
    started meanwhile gets what the calling thread had)."""
    allowed = _affinity(0)
    if allowed is None or len(allowed) < 2:
        yield
        return
    mine, me = {max(allowed)}, threading.get_native_id()
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


def _threads() -> list[int]:
    """Every thread of this process (those no threading.Thread stands for too)."""
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
