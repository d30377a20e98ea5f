"""The node.log handler: rotates by size, follows a file replaced under it, and reports its own
failures on stderr in one line per kind, at most once a minute."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import sys
import time
from pathlib import Path

from .. import safetext

REPORT_EVERY = 60.0
"""Seconds between two lines on stderr about the same kind of failure."""

OVERRUN = 2
"""While rotation fails, records go on into the file until it is this many times its limit."""


class NodeLogHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler that renames before it lets go of its file (a rotation that fails
    keeps the file it writes), reopens the file when it was removed or replaced, and says
    what fails once a minute per kind instead of a traceback per record."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self._said: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._follow()
        except OSError as exc:
            self._report("reopen", f"cannot reopen {self.baseFilename} ({_text(exc)})", exc)
        try:
            if self.shouldRollover(record):
                self.doRollover()
        except OSError as exc:
            self._report("rotate", f"cannot rotate {self.baseFilename} ({_text(exc)})", exc)
            if self.stream is not None and self.stream.tell() >= OVERRUN * self.maxBytes:
                what = f"{self.baseFilename} is {OVERRUN} times its limit; records are dropped"
                self._report("drop", what, exc)
                return
        try:
            logging.FileHandler.emit(self, record)  # a failure to write lands in handleError
        except OSError:  # no stream, and none opens
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:
        exc = sys.exc_info()[1]
        what = f"cannot write {self.baseFilename} ({_text(exc)}); records are lost meanwhile"
        self._report("write", what, exc)

    def doRollover(self) -> None:
        if self.backupCount <= 0:
            super().doRollover()
            return
        for index in range(self.backupCount - 1, 0, -1):
            source = f"{self.baseFilename}.{index}"
            if os.path.exists(source):
                os.replace(source, f"{self.baseFilename}.{index + 1}")
        os.replace(self.baseFilename, f"{self.baseFilename}.1")
        self._swap()

    def _follow(self) -> None:
        """Reopen the file if the one at the path is not the one written (removed or replaced:
        a tree extracted again, a hand-made rotation); while its directory is gone (a tree
        being removed), go on with the file held rather than make the directory again."""
        if self.stream is None:
            return
        try:
            found = os.stat(self.baseFilename)
        except FileNotFoundError:
            if not os.path.isdir(os.path.dirname(self.baseFilename)):
                return
        else:
            written = os.fstat(self.stream.fileno())
            if (found.st_dev, found.st_ino) == (written.st_dev, written.st_ino):
                return
        self._swap()

    def _swap(self) -> None:
        """Open the file at the path, then close the old one (kept if the open fails)."""
        fresh = self._open()
        old, self.stream = self.stream, fresh
        if old is not None:
            with contextlib.suppress(OSError):
                old.close()

    def _report(self, kind: str, what: str, exc: BaseException | None) -> None:
        key = f"{kind}:{type(exc).__name__}:{getattr(exc, 'errno', '')}"
        now = time.monotonic()
        if now - self._said.get(key, -REPORT_EVERY) < REPORT_EVERY:
            return
        self._said[key] = now
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        line = f"{stamp} node.log: {safetext.escape(what)} (said at most once a minute)\n"
        with contextlib.suppress(OSError):
            os.write(2, line.encode("utf-8", "backslashreplace"))


def _text(exc: BaseException | None) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    return f"{type(exc).__name__}: {exc}"
