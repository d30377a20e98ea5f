"""SIGTERM and SIGINT for the node: the handler only notes the signal, and a watcher thread,
woken through the wakeup descriptor, begins the shutdown.

A Python signal handler runs in the main thread in the middle of whatever it was doing. One
that logs or starts threads there can wait forever for a lock that very code holds (a record
half written to node.log, a thread half started): the node then never stops. Nothing here runs
more than a list append inside the handler.
"""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..kernel import threadstart

if TYPE_CHECKING:
    from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
"""The signals that stop a node."""


class StopSignals:
    """The stop signals of one process, turned into one call of `begin(signum)` on an
    ordinary thread once the node exists (`arm`)."""

    def __init__(
        self, begin: Callable[[int], None], signums: tuple[int, ...] = STOP_SIGNALS
    ) -> None:
        self._begin = begin
        self._signums = signums
        self._noted: list[int] = []
        self._lock = threading.Lock()
        self._armed = False
        self._begun = False
        self._read, self._write = socket.socketpair()  # (no pipe: the node keeps none)
        self._previous: list[tuple[int, object]] = []
        self._previous_fd = -1

    @property
    def received(self) -> bool:
        """Whether a stop signal came."""
        return bool(self._noted)

    def install(self) -> None:
        """From the main thread: note the signals, wake the watcher through the wakeup
        descriptor (whichever thread the kernel gives a signal to), start the watcher."""
        self._write.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        for signum in self._signums:
            self._previous.append((signum, signal.signal(signum, self._note)))
        watcher = threading.Thread(target=self._watch, name="primes-signals", daemon=True)
        threadstart.started(watcher, "the main thread looks for a stop signal once a second")

    def arm(self) -> None:
        """The node exists: a stop signal that came already, or comes from now on, begins
        its shutdown."""
        with self._lock:
            self._armed = True
        self.check()

    def check(self, signum: int | None = None) -> None:
        """Begin the shutdown if a stop signal came and the node exists, once (the main
        thread's wait loop calls this too, in case the watcher could not start)."""
        if signum is not None:
            self._noted.append(signum)
        with self._lock:
            if self._begun or not self._armed or not self._noted:
                return
            self._begun = True
        self._begin(self._noted[0])

    def close(self) -> None:
        """Put the handlers and the wakeup descriptor back as they were (tests)."""
        for signum, previous in reversed(self._previous):
            signal.signal(signum, previous)  # type: ignore[arg-type]
        signal.set_wakeup_fd(self._previous_fd)
        self._write.close()  # the watcher reads the end and returns

    def _note(self, signum: int, frame: FrameType | None) -> None:
        self._noted.append(signum)

    def _watch(self) -> None:
        while True:
            data = self._read.recv(64)  # one byte per signal: its number
            if not data:
                self._read.close()
                return
            for signum in data:
                if signum in self._signums:
                    self.check(signum)
