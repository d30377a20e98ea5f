"""The process table and registered names: pid or name -> live process."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from .errors import NoProcess, PrimesError
from .pid import Pid

if TYPE_CHECKING:
    from .process import Process

_lock = threading.Lock()
_by_id: dict[int, Process] = {}
_by_name: dict[str, Process] = {}


def add(proc: Process) -> None:
    """Enter a new process in the table."""
    _by_id[proc.pid.id] = proc


def drop(proc: Process) -> None:
    """Forget a dead process and its registered name."""
    with _lock:
        _by_id.pop(proc.pid.id, None)
        name = proc.name
        if name is not None and _by_name.get(name) is proc:
            del _by_name[name]


def lookup(dest: Pid | str) -> Process | None:
    """The live process behind a pid or a registered name, or None."""
    if isinstance(dest, Pid):
        return _by_id.get(dest.id)
    if isinstance(dest, str):
        return _by_name.get(dest)
    raise TypeError(f"a destination is a Pid or a registered name, not {type(dest).__name__}")


def resolve(dest: Pid | str) -> Process:
    """Like :func:`lookup`, but raise NoProcess with a clear message."""
    proc = lookup(dest)
    if proc is None:
        if isinstance(dest, str):
            raise NoProcess(f"no process is registered as {dest!r}")
        raise NoProcess(f"process {dest} is not alive")
    return proc


def register(name: str, pid: Pid) -> None:
    """Give a live process a name; fails if the name is taken or the process is dead."""
    proc = resolve(pid)
    with _lock:
        if not proc.alive:
            raise NoProcess(f"process {pid} is not alive")
        other = _by_name.get(name)
        if other is not None and other is not proc:
            raise PrimesError(f"name {name!r} is already registered to {other.pid}")
        if proc.name is not None and proc.name != name and _by_name.get(proc.name) is proc:
            raise PrimesError(f"process {pid} is already registered as {proc.name!r}")
        _by_name[name] = proc
        proc.name = name


def unregister(name: str) -> None:
    """Remove a name (the process keeps running)."""
    with _lock:
        proc = _by_name.pop(name, None)
        if proc is None:
            raise NoProcess(f"no process is registered as {name!r}")
        proc.name = None


def whereis(name: str) -> Pid | None:
    """The pid registered under ``name``, or None."""
    proc = _by_name.get(name)
    return proc.pid if proc is not None else None


def all_processes() -> list[Process]:
    """Every live process (a copy of the table, in start order)."""
    return sorted(list(_by_id.values()), key=lambda p: p.pid.id)
