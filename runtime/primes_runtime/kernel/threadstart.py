"""Starting a thread where the OS may refuse one: say so at most once a minute, and carry on."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("primes_runtime.threads")

REPORT_EVERY = 60.0
"""Seconds between two log lines about the same kind of thread that could not start."""

_last: dict[str, float] = {}
_lock = threading.Lock()


def started(thread: threading.Thread, instead: str = "") -> bool:
    """Start `thread`; False when the OS cannot start one (logged, at most once a minute for
    threads of its kind, with what is done `instead`)."""
    try:
        thread.start()
    except RuntimeError as exc:
        _report(thread.name, exc, instead)
        return False
    return True


def start_or_run(
    target: Callable[..., object], args: tuple[object, ...] = (), *, name: str, daemon: bool
) -> None:
    """Run `target(*args)` on a new thread, or on the calling one when none can start."""
    thread = threading.Thread(target=target, args=args, name=name, daemon=daemon)
    if not started(thread, "running its work on this thread instead"):
        target(*args)


def _report(name: str, exc: RuntimeError, instead: str) -> None:
    kind = name.rstrip("0123456789-")
    now = time.monotonic()
    with _lock:
        if now - _last.get(kind, -REPORT_EVERY) < REPORT_EVERY:
            return
        _last[kind] = now
    then = f"; {instead}" if instead else ""
    log.warning("cannot start thread %s (%s)%s (said at most once a minute)", name, exc, then)
