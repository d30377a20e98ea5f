"""The tree's node lock: one node per tree, whatever happens to run/."""

from __future__ import annotations

import errno
import fcntl
import os
from dataclasses import dataclass

from primes_runtime.control import pidfile
from primes_runtime.control.errors import ControlError
from primes_runtime.control.tree import Tree


@dataclass(frozen=True)
class Held:
    """The lock as the node holds it: an open descriptor kept until the process exits."""

    fd: int
    record: pidfile.Record

    def release(self) -> None:
        os.close(self.fd)


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
    record = pidfile.record_of(os.getpid())
    os.ftruncate(fd, 0)
    os.pwrite(fd, record.render().encode("ascii"), 0)
    return Held(fd, record)


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
