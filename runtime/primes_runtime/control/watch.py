"""A thread in the node that puts run/ back (socket, pid file, cookie) and its lock, bounds
console.log and reaps children nobody waited for."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from primes_runtime import safetext
from primes_runtime.control import nodelock, pidfile
from primes_runtime.control.tree import Tree
from primes_runtime.kernel.reaper import Reaper

log = logging.getLogger("primes_runtime.control")

INTERVAL = 1.0
"""Seconds between two looks at run/ and log/console.log."""


@dataclass(frozen=True)
class Watch:
    """What the watcher keeps in place for one node."""

    tree: Tree
    ensure_socket: Callable[[], bool]
    """Rebinds run/node.sock if it is gone or not ours; True when it did."""
    cookie: str | None
    """The generated cookie to write back to run/cookie (None: node.toml sets it)."""
    console_max_bytes: int
    reaper: Reaper = field(default_factory=Reaper)

    def once(self) -> None:
        """One look: restore what is missing, rotate console.log if it grew too large, reap
        children that stayed zombies."""
        relocked = nodelock.keep(self.tree)
        if relocked is not None:
            log.warning("%s", relocked)
        if self.ensure_socket():
            log.warning("control socket %s was gone; listening on a new one", self.tree.sock)
        if not self.tree.pid_file.exists():
            pidfile.write(self.tree, os.getpid())
            log.warning("%s was gone; wrote it again", self.tree.pid_file)
        if self.cookie is not None and not self.tree.cookie_file.exists():
            with contextlib.suppress(FileExistsError):
                fd = os.open(self.tree.cookie_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(self.cookie + "\n")
                log.warning("%s was gone; wrote it again", self.tree.cookie_file)
        rotate_console_log(self.tree, self.console_max_bytes)
        reaped = self.reaper.once()
        if reaped:
            log.warning(
                "reaped %d child process(es) nobody waited for (pids %s)",
                len(reaped),
                ", ".join(map(str, reaped)),
            )


def rotate_console_log(tree: Tree, max_bytes: int) -> None:
    """Past `max_bytes`, copy log/console.log to console.log.1 and empty it (it is appended to)."""
    path = tree.console_log
    try:
        if path.stat().st_size <= max_bytes:
            return
    except OSError:
        return
    old = path.with_name(path.name + ".1")
    tmp = path.with_name(f".{path.name}.1.tmp")
    try:
        shutil.copyfile(path, tmp)
        os.chmod(tmp, 0o600)
        os.replace(tmp, old)
        os.truncate(path, 0)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        _empty_through_own_fd(path, exc)


def _empty_through_own_fd(path: Path, exc: OSError) -> None:
    """Empty console.log through the node's own stderr or stdout when it cannot be rotated
    (log/ read-only): the limit holds, what it held is lost, and the file says so."""
    with contextlib.suppress(OSError):
        found = os.stat(path)
        for fd in (2, 1):
            held = os.fstat(fd)
            if (held.st_dev, held.st_ino) == (found.st_dev, found.st_ino):
                os.ftruncate(fd, 0)
                why = safetext.escape(f"{type(exc).__name__}: {exc.strerror or exc}")
                line = f"console.log passed its limit and cannot be rotated ({why}); emptied\n"
                os.write(fd, line.encode("utf-8", "backslashreplace"))
                return


def start(watch: Watch, stopped: threading.Event) -> threading.Thread:
    """Run `watch.once()` every INTERVAL seconds until `stopped` is set."""

    def loop() -> None:
        while not stopped.wait(INTERVAL):
            try:
                watch.once()
            except Exception as exc:
                log.warning(
                    "control: cannot restore %s (%r); trying again", watch.tree.run_dir, exc
                )

    thread = threading.Thread(target=loop, name="primes-run-watch", daemon=True)
    thread.start()
    return thread
