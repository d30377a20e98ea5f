"""Per-thread capture of sys.stdout/sys.stderr, so code run for one client prints to that client."""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO, cast

_local = threading.local()
_install_lock = threading.Lock()


class _Router:
    """A stand-in for a standard stream: writes go to this thread's capture buffer, if any."""

    def __init__(self, fallback: TextIO | None) -> None:
        self.fallback = fallback

    def write(self, text: str) -> int:
        buffer: io.StringIO | None = getattr(_local, "buffer", None)
        if buffer is not None:
            return buffer.write(text)
        if self.fallback is None:
            return len(text)
        return self.fallback.write(text)

    def flush(self) -> None:
        if getattr(_local, "buffer", None) is None and self.fallback is not None:
            self.fallback.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self.fallback, name)


def _install() -> None:
    with _install_lock:
        if not isinstance(sys.stdout, _Router):
            sys.stdout = cast(TextIO, _Router(sys.stdout))
        if not isinstance(sys.stderr, _Router):
            sys.stderr = cast(TextIO, _Router(sys.stderr))


@contextmanager
def captured() -> Iterator[io.StringIO]:
    """Within the block, what this thread prints goes to the yielded buffer; others unaffected."""
    _install()
    previous = getattr(_local, "buffer", None)
    buffer = io.StringIO()
    _local.buffer = buffer
    try:
        yield buffer
    finally:
        _local.buffer = previous
