"""Child processes the node's code started and never waited for, reaped after a grace period.

An app that starts a helper process and crashes before it waits for it (in a crash loop under
its supervisor, once per restart) leaves a zombie per helper: the node is their parent, and
nothing in it will ever wait for them. A child that has been a zombie for `GRACE` seconds is
reaped here, unless a live subprocess.Popen still owns it (its owner may poll it later: it is
looked at again after `SPARED`); code that waits for its children (subprocess.run,
Popen.wait, the unpacker) does so at once, long before that.
"""

from __future__ import annotations

import contextlib
import gc
import os
import subprocess
import time
from collections.abc import Callable, Iterable

GRACE = 5.0
SPARED = 60.0


def zombie_children(parent: int) -> list[int]:
    """The pids of `parent`'s children that have exited and not been waited for."""
    zombies = []
    for pid in _children(parent):
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rpartition(")")[2].split()
            if fields[0] == "Z" and int(fields[1]) == parent:
                zombies.append(pid)
    return zombies


def _children(parent: int) -> set[int]:
    """Every child of `parent`, from /proc/<pid>/task/*/children (else a scan of /proc)."""
    found: set[int] = set()
    try:
        tasks = os.listdir(f"/proc/{parent}/task")
        for tid in tasks:
            with open(f"/proc/{parent}/task/{tid}/children", encoding="ascii") as f:
                found.update(int(p) for p in f.read().split())
    except OSError:
        with contextlib.suppress(OSError):
            found = {int(p) for p in os.listdir("/proc") if p.isdigit()}
    return found


class Reaper:
    """Reaps the node's children that stayed zombies for `grace` seconds (see `once`)."""

    def __init__(
        self,
        grace: float = GRACE,
        clock: Callable[[], float] = time.monotonic,
        owned: Callable[[], set[int]] | None = None,
    ) -> None:
        self.grace = grace
        self._clock = clock
        self._owned = owned or owned_by_popen  # the children live Popens own
        self._since: dict[int, float] = {}

    def once(self) -> list[int]:
        """One look at the node's children; the pids reaped now."""
        now = self._clock()
        zombies = zombie_children(os.getpid())
        self._since = {pid: self._since.get(pid, now) for pid in zombies}
        due = [pid for pid, since in self._since.items() if now - since >= self.grace]
        owned = self._owned() if due else set()
        reaped = []
        for pid in due:
            if pid in owned:
                self._since[pid] = now + SPARED - self.grace
                continue
            del self._since[pid]
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    reaped.append(pid)
        return reaped


def owned_by_popen(objects: Iterable[object] | None = None) -> set[int]:
    """Pids of children a live subprocess.Popen among `objects` (gc's objects by default:
    not the ones a node froze) owns and has not waited for (not the ones subprocess keeps
    only to reap later, after their Popen was dropped)."""
    dropped = {id(p) for p in getattr(subprocess, "_active", None) or []}
    return {
        o.pid
        for o in (gc.get_objects() if objects is None else objects)
        if isinstance(o, subprocess.Popen) and o.returncode is None and id(o) not in dropped
    }
