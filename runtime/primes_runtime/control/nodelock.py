"""The tree's node lock: one node per tree, whatever happens to run/."""

from __future__ import annotations

import errno
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from primes_runtime.control import pidfile
from primes_runtime.control.errors import ControlError
from primes_runtime.control.tree import Tree


@dataclass(frozen=True)
class Held:
    """The lock as the node holds it: an open descriptor kept until the process exits."""

    fd: int
    record: pidfile.Record
    path: Path

    def release(self) -> None:
        if self in _HELD:
            _HELD.remove(self)
        os.close(self.fd)

    def lost(self) -> bool:
        """True when the lock's path no longer names the file this lock is on (the file, or
        the whole tree, was removed, maybe extracted again)."""
        try:
            now = os.stat(self.path)
        except OSError:
            return True
        mine = os.fstat(self.fd)
        return (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino)


_HELD: list[Held] = []
"""The locks this process took (a node holds one for its whole life)."""


def acquire(tree: Tree) -> Held:
    """Take the tree's node lock for this process and record its pid; refuse if it is held."""
    path = tree.node_lock
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ControlError(f"cannot open {path}: {exc.strerror}; run as the tree's owner") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise ControlError(f"cannot lock {path}: {exc.strerror}") from None
        other = pidfile.load(path)
        who = f" (pid {other.pid})" if other is not None else ""
        raise ControlError(
            f"another node of this tree is running{who}: it holds {path}; stop it first"
        ) from None
    for other in lost_holders(tree):
        os.close(fd)
        raise ControlError(
            f"another node of this tree is running (pid {other.pid}): it holds the {path} of "
            "the tree that was removed or extracted again under it; stop it first"
        )
    record = pidfile.record_of(os.getpid())
    os.ftruncate(fd, 0)
    os.pwrite(fd, record.render().encode("ascii"), 0)
    held = Held(fd, record, path)
    _HELD.append(held)
    return held


def keep(tree: Tree) -> str | None:
    """Lock the tree's lock file again if the one this process holds was removed or replaced;
    a line saying so, or None when nothing was lost (or this process holds no lock of it)."""
    mine = [held for held in _HELD if held.path == tree.node_lock]
    if not mine or not mine[-1].lost():
        return None
    acquire(tree)
    return (
        f"{tree.node_lock} was removed or replaced (was the tree removed or extracted again?); "
        f"this node (pid {os.getpid()}) locked it again: one node per tree"
    )


def lost_holders(tree: Tree) -> list[pidfile.Record]:
    """Nodes of this tree proved by /proc that hold its lock on a file since removed (the
    tree was removed, maybe extracted again, under them); the caller's own process aside."""
    gone = f"{os.path.realpath(tree.root)}/{tree.node_lock.name} (deleted)"
    found = []
    for pid in _flock_holders() - {os.getpid()}:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            holds = any(_readlink(f"/proc/{pid}/fd/{fd}") == gone for fd in fds)
        except OSError:
            continue
        record = pidfile.record_of(pid)
        if holds and pidfile.is_node(record, tree.root):
            found.append(record)
    return found


def _flock_holders() -> set[int]:
    """Pids that hold a write flock, from /proc/locks (`1: FLOCK ADVISORY WRITE <pid> ...`)."""
    try:
        text = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        return set()
    pids = set()
    for line in text.splitlines():
        fields = line.split()
        flock = len(fields) > 4 and fields[1:4] == ["FLOCK", "ADVISORY", "WRITE"]
        if flock and fields[4].isdigit() and 0 < int(fields[4]) <= pidfile.PID_MAX:
            pids.add(int(fields[4]))
    return pids


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


def is_held(tree: Tree) -> bool:
    """True while some process holds the tree's node lock."""
    path = tree.node_lock
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ControlError(f"cannot read {path}: {exc.strerror}; run as the tree's owner") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def recorded(tree: Tree) -> pidfile.Record | None:
    """The pid and start time the lock's holder wrote into it (None if none is valid)."""
    return pidfile.load(tree.node_lock)


def holding(tree: Tree) -> Held | None:
    """The lock of this tree this process holds (a node's), or None."""
    mine = [held for held in _HELD if held.path == tree.node_lock]
    return mine[-1] if mine else None


def adopt(tree: Tree, fd: int) -> Held:
    """Hold the lock a predecessor passed over (the same open file, so the same flock)."""
    held = Held(fd, pidfile.record_of(os.getpid()), tree.node_lock)
    _HELD.append(held)
    return held


def claim(held: Held, pid: int | None = None) -> None:
    """Write `pid` (default: this process) and its start time into the held lock's file."""
    record = pidfile.record_of(os.getpid() if pid is None else pid)
    os.ftruncate(held.fd, 0)
    os.pwrite(held.fd, record.render().encode("ascii"), 0)
