"""run/node.pid: writing it, reading it, and telling a live node from a stale file."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from primes_runtime.control.tree import Tree


def write(tree: Tree, pid: int) -> None:
    """Record `pid` in run/node.pid (through a temp file and a rename)."""
    tree.make_run_dir()
    tmp = tree.pid_file.with_name(f".node.pid.{os.getpid()}")
    tmp.write_text(f"{pid}\n", encoding="ascii")
    os.replace(tmp, tree.pid_file)


def read(tree: Tree) -> int | None:
    """The pid in run/node.pid, or None when there is no readable one."""
    try:
        return int(tree.pid_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def remove_if(tree: Tree, pid: int) -> None:
    """Remove run/node.pid if it still names `pid`."""
    if read(tree) == pid:
        tree.pid_file.unlink(missing_ok=True)


def alive(pid: int) -> bool:
    """True while `pid` is a process that has not exited (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]


def is_node(pid: int, root: Path) -> bool:
    """True if `pid` is alive and (where /proc tells) a primes node of the tree at `root`."""
    if not alive(pid):
        return False
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc: trust the pid file
    return os.fsencode(str(root)) in args and any(b"primes_runtime" in a for a in args)


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait until `pid` has exited; False if it is still there after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


@contextlib.contextmanager
def start_lock(tree: Tree) -> Iterator[None]:
    """Hold run/start.lock, so two concurrent starts cannot both launch a node."""
    tree.make_run_dir()
    fd = os.open(tree.start_lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
