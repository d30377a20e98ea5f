"""run/node.pid: writing it, reading it, and proving that a pid is this tree's node."""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from primes_runtime.control.tree import Tree

PID_MAX = 1 << 22
"""Linux never hands out a pid above this (/proc/sys/kernel/pid_max is at most 2^22)."""


@dataclass(frozen=True)
class Record:
    """A process as a pid file names it: its pid and its start time (clock ticks after boot)."""

    pid: int
    started: int | None

    def render(self) -> str:
        return f"{self.pid} {self.started}\n" if self.started is not None else f"{self.pid}\n"


def parse(text: str) -> Record | None:
    """The record in a pid file's text; None unless it names one positive pid (stale)."""
    fields = text.split()
    if not 1 <= len(fields) <= 2 or not all(f.isdigit() and f.isascii() for f in fields):
        return None
    if len(fields[0]) > 7 or not 0 < int(fields[0]) <= PID_MAX:
        return None
    started = int(fields[1]) if len(fields) == 2 and len(fields[1]) <= 20 else None
    return Record(int(fields[0]), started)


def load(path: Path) -> Record | None:
    """The record in the file at `path`, or None when there is no valid one."""
    try:
        return parse(path.read_text(encoding="ascii", errors="replace"))
    except OSError:
        return None


def read(tree: Tree) -> Record | None:
    """The record in run/node.pid, or None (missing, unreadable or not a positive pid)."""
    return load(tree.pid_file)


def record_of(pid: int) -> Record:
    """`pid` with its start time as /proc shows it now."""
    stat = _stat(pid)
    return Record(pid, stat[1] if stat is not None else None)


def write(tree: Tree, pid: int) -> None:
    """Record `pid` and its start time in run/node.pid (0600, through a temp file and a rename)."""
    tree.make_run_dir()
    tmp = tree.pid_file.with_name(f".node.pid.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(record_of(pid).render())
    os.replace(tmp, tree.pid_file)


def remove_if(tree: Tree, pid: int) -> None:
    """Remove run/node.pid if it still names `pid`."""
    record = read(tree)
    if record is not None and record.pid == pid:
        tree.pid_file.unlink(missing_ok=True)


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, start time) of `pid` from /proc/<pid>/stat; None when it cannot be read."""
    if not 0 < pid <= PID_MAX:
        return None
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        fields = text.rsplit(")", 1)[1].split()
        return fields[0], int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def alive(pid: int) -> bool:
    """True while `pid` (a positive pid) is a process that has not exited (a zombie is gone)."""
    if not 0 < pid <= PID_MAX:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    stat = _stat(pid)
    return stat is None or stat[0] != "Z"


def is_node(record: Record, root: Path) -> bool:
    """True only if /proc proves `record` is a live primes node of the tree at `root`.

    Proof: the process has the start time recorded when it was started (so the pid was not
    reused) and its command line runs primes_runtime for this tree. Anything unreadable or
    different is no proof.
    """
    stat = _stat(record.pid)
    if stat is None or record.started is None or stat[1] != record.started or stat[0] == "Z":
        return False
    return cmdline_proves(record.pid, root)


def cmdline_proves(pid: int, root: Path) -> bool:
    """True if the command line of `pid` runs primes_runtime with `root` as an argument."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return os.fsencode(str(root)) in args and any(b"primes_runtime" in a for a in args)


def signal_node(record: Record, root: Path, signum: int = signal.SIGTERM) -> bool:
    """Send `signum` to the node `record` names if it is proved to be the node; False if not.

    The process is pinned with a pidfd first, so it cannot be replaced between proof and signal.
    """
    if not 0 < record.pid <= PID_MAX:
        return False
    try:
        fd = os.pidfd_open(record.pid)
    except OSError:
        return False
    try:
        if not is_node(record, root):
            return False
        signal.pidfd_send_signal(fd, signum)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def gone(record: Record) -> bool:
    """True once the process `record` names has exited (or its pid now names another one)."""
    if not alive(record.pid):
        return True
    stat = _stat(record.pid)
    return record.started is not None and stat is not None and stat[1] != record.started


def wait_gone(record: Record, timeout: float) -> bool:
    """Wait until the process has exited; False if it is still there after `timeout` seconds.

    It sleeps on a pidfd (readable once the process exits) where the kernel offers one, and
    polls /proc otherwise.
    """
    deadline = time.monotonic() + timeout
    try:
        fd = os.pidfd_open(record.pid) if 0 < record.pid <= PID_MAX else -1
    except ProcessLookupError:
        return True
    except OSError:
        fd = -1  # no pidfds here (an old kernel, a seccomp filter): poll instead
    if fd >= 0:
        try:
            if gone(record):  # checked once pinned: from here on, fd is the recorded process
                return True
            readable, _, _ = select.select([fd], [], [], max(timeout, 0.0))
            return bool(readable)
        finally:
            os.close(fd)
    pause = 0.002  # a node exits within ms of its stop reply: poll fast first, then back off
    while not gone(record):
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
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
