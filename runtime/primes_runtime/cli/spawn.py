"""The node of `start`: a fork of the command's own process, so it boots on imports already done.

A fresh interpreter would start again and import again most of what the command has loaded
(logging, dataclasses, the control and format layers): on a small release that is about
half of its boot. The fork is detached as the launched node was (a session of its own, stdin
from /dev/null, stdout and stderr unbuffered into log/console.log, the tree as its working
directory, no descriptor but the readiness pipe), and never returns into the command's code.

It is used only where the pid proof holds for it (control/pidfile.py: its command line,
the command's own, names the tree and the runtime; bin/<name> passes the tree's real path)
and the command runs no thread; the command launches a fresh interpreter otherwise.
"""

from __future__ import annotations

import fcntl
import io
import os
import subprocess
import sys
import threading
import traceback
from pathlib import Path
from typing import NoReturn

from primes_runtime.control import pidfile


def can_fork(root: Path) -> bool:
    """True if a fork of this process would pass the pid proof for the tree at `root`."""
    if threading.active_count() != 1:
        return False  # a fork of a threaded process may inherit a held lock
    return pidfile.cmdline_proves(os.getpid(), root)


class Forked:
    """The forked node as `start` watches it: the part of subprocess.Popen it uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """Its exit status once it has exited (reaped), else None."""
        if self.returncode is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Its exit status, once it exits within `timeout` s; subprocess.TimeoutExpired if not."""
        if self.returncode is None:
            gone = pidfile.wait_gone(
                pidfile.record_of(self.pid), 1e9 if timeout is None else timeout
            )
            status = self.poll() if gone else None
            if status is None:
                raise subprocess.TimeoutExpired(f"node pid {self.pid}", timeout or 0.0)
        assert self.returncode is not None
        return self.returncode


def fork_node(root: Path, console: int, ready_fd: int) -> Forked:
    """Fork the node of the tree at `root` (the child runs the node and never returns here)."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _run_node(root, console, ready_fd)
    return Forked(pid)


def _run_node(root: Path, console: int, ready_fd: int) -> NoReturn:
    """In the child: detach, then run the node's program and exit with its status."""
    status = 1
    try:
        os.setsid()
        console = fcntl.fcntl(console, fcntl.F_DUPFD, 3)  # clear of 0-2, whatever they were
        ready_fd = fcntl.fcntl(ready_fd, fcntl.F_DUPFD, 3)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(console, 1)
        os.dup2(console, 2)
        os.closerange(3, ready_fd)  # the start lock among them: it stays the command's
        os.closerange(ready_fd + 1, MAX_FD)
        os.chdir(root)
        for name, fd in (("stdout", 1), ("stderr", 2)):
            stream = _unbuffered(fd, getattr(sys, name))
            setattr(sys, name, stream)
            setattr(sys, f"__{name}__", stream)  # what code that restores the streams takes
        from primes_runtime.program import main

        status = main.main(["--root", str(root), "--ready-fd", str(ready_fd)])
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            from primes_runtime.program.exiting import exit_now

            exit_now(status)
        finally:
            os._exit(status)  # never back into the command's code


MAX_FD = 1 << 20
"""Above any descriptor a process here can hold (RLIMIT_NOFILE's hard limit is at most this)."""


def _unbuffered(fd: int, like: object) -> io.TextIOWrapper:
    """A text stream on `fd` that writes through at once (what `python -u` gives the node)."""
    encoding = getattr(like, "encoding", None) or "utf-8"
    errors = getattr(like, "errors", None) or "backslashreplace"
    raw = io.FileIO(fd, "w", closefd=False)
    return io.TextIOWrapper(raw, encoding=encoding, errors=errors, write_through=True)
