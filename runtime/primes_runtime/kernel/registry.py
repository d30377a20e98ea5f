"""The process table: pids, registered names, and forgetting processes when they exit.

One table per node. It hands out pids, owns every name (a process's name is the table's
business, not the process's), and its :meth:`ProcessTable.exited` is what a dying process
calls last. The module-level ``register``/``unregister``/``whereis`` are the public API:
they act on the table of the node the calling code runs in.
"""

from __future__ import annotations

import itertools
import threading
from operator import attrgetter
from typing import TYPE_CHECKING

from ..errors import NoProcess, PrimesError
from .context import current_node
from .pid import Pid

if TYPE_CHECKING:
    from .process import Process

_MAILBOX = attrgetter("mailbox")


class ProcessTable:
    """Live processes by pid and by registered name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._refs = itertools.count(1)
        self._by_id: dict[int, Process] = {}
        self._by_name: dict[str, Process] = {}
        self._names: dict[int, str] = {}  # pid id -> its registered name
        self.holds: set[str] = set()
        """Callback modules whose every process stands still between two messages (one
        flag for all of them: system.hold_module)."""

    def new_pid(self) -> Pid:
        """A pid never handed out before in this node."""
        return Pid(next(self._ids))

    def new_ref(self) -> int:
        """A number never handed out before by this table (monitor refs)."""
        return next(self._refs)

    def add(self, proc: Process) -> None:
        """Enter a new process in the table."""
        self._by_id[proc.pid.id] = proc

    def exited(self, proc: Process) -> None:
        """A process died: forget it and its registered name."""
        with self._lock:
            self._by_id.pop(proc.pid.id, None)
            name = self._names.pop(proc.pid.id, None)
            if name is not None and self._by_name.get(name) is proc:
                del self._by_name[name]

    def lookup(self, dest: Pid | str) -> Process | None:
        """The live process behind a pid or a registered name, or None."""
        if isinstance(dest, Pid):
            return self._by_id.get(dest.id)
        if isinstance(dest, str):
            return self._by_name.get(dest)
        raise TypeError(f"a destination is a Pid or a registered name, not {type(dest).__name__}")

    def resolve(self, dest: Pid | str) -> Process:
        """Like :meth:`lookup`, but raise NoProcess with a clear message."""
        proc = self.lookup(dest)
        if proc is None:
            if isinstance(dest, str):
                raise NoProcess(f"no process is registered as {dest!r}")
            raise NoProcess(f"process {dest} is not alive")
        return proc

    def register(self, name: str, pid: Pid) -> None:
        """Give a live process a name; fails if the name is taken or the process is dead."""
        proc = self.resolve(pid)
        with self._lock:
            if not proc.alive or self._by_id.get(pid.id) is not proc:
                raise NoProcess(f"process {pid} is not alive")
            other = self._by_name.get(name)
            if other is not None and other is not proc:
                raise PrimesError(f"name {name!r} is already registered to {other.pid}")
            held = self._names.get(pid.id)
            if held is not None and held != name:
                raise PrimesError(f"process {pid} is already registered as {held!r}")
            self._by_name[name] = proc
            self._names[pid.id] = name

    def unregister(self, name: str) -> None:
        """Remove a name (the process keeps running)."""
        with self._lock:
            proc = self._by_name.pop(name, None)
            if proc is None:
                raise NoProcess(f"no process is registered as {name!r}")
            self._names.pop(proc.pid.id, None)

    def whereis(self, name: str) -> Pid | None:
        """The pid registered under ``name``, or None."""
        proc = self._by_name.get(name)
        return proc.pid if proc is not None else None

    def name_of(self, pid: Pid) -> str | None:
        """The name ``pid`` is registered under, or None."""
        return self._names.get(pid.id)

    def kill(self, pid: Pid, reason: object = "killed") -> bool:
        """End a process at once, without terminate; False if it was not alive."""
        proc = self.lookup(pid)
        return proc.finish(reason) if proc is not None else False

    def all(self) -> list[Process]:
        """Every live process (a copy of the table, in start order)."""
        return sorted(list(self._by_id.values()), key=lambda p: p.pid.id)

    def using(self, module_name: str) -> list[Pid]:
        """Pids of the live processes whose callback module is ``module_name``, in pid order."""
        return sorted((p.pid for p in self.running(module_name)), key=lambda pid: pid.id)

    def with_mail(self, module_name: str) -> list[Process]:
        """The processes of ``module_name`` with mail waiting (one look at each: a held
        module's release, inside the pause of its 10,000 processes)."""
        with_mail = filter(_MAILBOX, list(self._by_id.values()))  # (in C: the most have none)
        return [p for p in with_mail if p.module == module_name]

    def running(self, module_name: str) -> list[Process]:
        """The live processes whose callback module is ``module_name``, in table order
        (no sort: the release handler's loops over 10,000 processes use this)."""
        return [p for p in list(self._by_id.values()) if p.module == module_name and p.alive]


def register(name: str, pid: Pid) -> None:
    """Give a live process a name; fails if the name is taken or the process is dead."""
    current_node().processes.register(name, pid)


def unregister(name: str) -> None:
    """Remove a name (the process keeps running)."""
    current_node().processes.unregister(name)


def whereis(name: str) -> Pid | None:
    """The pid registered under ``name``, or None."""
    return current_node().processes.whereis(name)
