"""The reply slot of one call: the caller waits on it, the callee fills it exactly once."""

from __future__ import annotations

import threading

from ..errors import CallFailed, CallTimeout
from .pid import Pid


class Caller:
    """Who is waiting for a reply; pass it to ``reply`` (or a statem ``Reply`` action).

    Every answer (reply, failure, the caller's own timeout) is appended to ``_answers``;
    ``list.append`` is atomic, so the first entry is the one that counts, without a lock.
    """

    __slots__ = ("_answers", "_lock", "pid")

    def __init__(self, pid: Pid | None) -> None:
        self.pid = pid  # the calling process, or None for a plain thread
        self._lock = threading.Lock()
        self._lock.acquire()
        self._answers: list[tuple[bool, object]] = []  # (is_error, value)

    def __repr__(self) -> str:
        return f"Caller({self.pid})"

    @property
    def answered(self) -> bool:
        """True once a reply, a failure or the caller's timeout settled this call."""
        return bool(self._answers)

    def _settle(self, entry: tuple[bool, object]) -> bool:
        answers = self._answers
        if answers:
            return False
        answers.append(entry)
        if answers[0] is not entry:
            return False
        self._lock.release()
        return True

    def set_reply(self, value: object) -> bool:
        """Deliver the reply; False if the call was already settled (e.g. timed out)."""
        return self._settle((False, value))

    def set_error(self, error: BaseException) -> bool:
        """Make the caller raise ``error``; False if the call was already settled."""
        return self._settle((True, error))

    def wait(self, timeout: float, what: str) -> object:
        """Block until settled or timed out; return the reply or raise."""
        if not self._lock.acquire(timeout=min(max(0.0, timeout), threading.TIMEOUT_MAX)):
            mine = (True, CallTimeout(f"{what}: no reply within {timeout:g} s"))
            self._answers.append(mine)
        is_error, value = self._answers[0]
        if is_error:
            assert isinstance(value, BaseException)
            raise value
        return value


def failed(what: str, reason: object) -> CallFailed:
    """The error a caller sees when the callee died before replying."""
    return CallFailed(f"{what} exited before replying (reason: {reason!r})")
