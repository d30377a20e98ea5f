"""The reply slot of one call: the caller waits on it, the callee fills it exactly once."""

from __future__ import annotations

import threading

from .errors import CallFailed, CallTimeout
from .pid import Pid

_settle = threading.Lock()  # held for a few instructions: makes "first answer wins" atomic

_EMPTY = object()


class Caller:
    """Who is waiting for a reply; pass it to ``reply`` (or a statem ``Reply`` action)."""

    __slots__ = ("_error", "_lock", "_value", "pid")

    def __init__(self, pid: Pid | None) -> None:
        self.pid = pid  # the calling process, or None for a plain thread
        self._lock = threading.Lock()
        self._lock.acquire()
        self._value: object = _EMPTY
        self._error: BaseException | None = None

    def __repr__(self) -> str:
        return f"Caller({self.pid})"

    @property
    def answered(self) -> bool:
        """True once a reply, a failure or the caller's timeout settled this call."""
        return self._value is not _EMPTY or self._error is not None

    def set_reply(self, value: object) -> bool:
        """Deliver the reply; False if the call was already settled (e.g. timed out)."""
        with _settle:
            if self._value is not _EMPTY or self._error is not None:
                return False
            self._value = value
        self._lock.release()
        return True

    def set_error(self, error: BaseException) -> bool:
        """Make the caller raise ``error``; False if the call was already settled."""
        with _settle:
            if self._value is not _EMPTY or self._error is not None:
                return False
            self._error = error
        self._lock.release()
        return True

    def wait(self, timeout: float, what: str) -> object:
        """Block until settled or timed out; return the reply or raise."""
        if not self._lock.acquire(timeout=min(max(0.0, timeout), threading.TIMEOUT_MAX)):
            with _settle:
                if self._value is _EMPTY and self._error is None:
                    self._error = CallTimeout(f"{what}: no reply within {timeout:g} s")
                    raise self._error
        if self._error is not None:
            raise self._error
        return self._value


def failed(what: str, reason: object) -> CallFailed:
    """The error a caller sees when the callee died before replying."""
    return CallFailed(f"{what} exited before replying (reason: {reason!r})")
