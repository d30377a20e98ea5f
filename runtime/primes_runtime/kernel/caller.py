"""The reply slot of one call: the caller waits on it, the callee fills it exactly once."""

from __future__ import annotations

import _thread
import threading

from ..errors import CallFailed, CallTimeout
from .pid import Pid

_TIMEOUT_MAX = threading.TIMEOUT_MAX


class Caller:
    """Who is waiting for a reply; pass it to ``reply`` (or a statem ``Reply`` action).

    Every answer (reply, failure, the caller's own timeout) is appended to ``_answers``;
    ``list.append`` is atomic, so the first entry is the one that counts, without a lock.
    The caller sleeps on ``_lock`` (held from the start, released by the first answer).
    """

    __slots__ = ("_answers", "_lock", "pid")

    def __init__(self, pid: Pid | None) -> None:
        self.pid = pid  # the calling process, or None for a plain thread
        self._lock = _thread.allocate_lock()
        self._lock.acquire()
        self._answers: list[tuple[bool, object]] = []  # (is_error, value)

    def __repr__(self) -> str:
        return f"Caller({self.pid})"

    @property
    def answered(self) -> bool:
        """True once a reply, a failure or the caller's timeout settled this call."""
        return bool(self._answers)

    def _record(self, entry: tuple[bool, object]) -> bool:
        answers = self._answers
        if answers:
            return False
        answers.append(entry)
        return answers[0] is entry

    def _settle(self, entry: tuple[bool, object]) -> bool:
        if not self._record(entry):
            return False
        self.wake()
        return True

    def set_reply(self, value: object) -> bool:
        """Deliver the reply; False if the call was already settled (e.g. timed out)."""
        return self._settle((False, value))

    def set_reply_quiet(self, value: object) -> bool:
        """Settle the call with ``value`` without waking the caller yet: True obliges the
        one who settled it to call :meth:`wake` (a worker does, once the message is done)."""
        return self._record((False, value))

    def wake(self) -> None:
        """Wake the caller of a call settled by :meth:`set_reply_quiet`."""
        self._lock.release()

    def set_error(self, error: BaseException) -> bool:
        """Make the caller raise ``error``; False if the call was already settled."""
        return self._settle((True, error))

    def wait(self, timeout: float, what: str) -> object:
        """Block until settled or timed out; return the reply or raise."""
        wait = timeout if 0.0 < timeout < _TIMEOUT_MAX else min(max(0.0, timeout), _TIMEOUT_MAX)
        if not self._lock.acquire(timeout=wait):
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
