"""Warnings that repeat under attack, logged at most once per interval per kind, with a count."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

INTERVAL = 10.0


class RateLog:
    """One warning per kind per `interval` seconds; the next one says how many were held back."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warn(self, kind: str, message: str) -> bool:
        """Log `message` unless `kind` was logged within the interval; True if it was logged."""
        now = self._clock()
        last = self._last.get(kind)
        if last is not None and now - last < self._interval:
            self._held[kind] = self._held.get(kind, 0) + 1
            return False
        self._last[kind] = now
        held = self._held.pop(kind, 0)
        more = f" ({held} more like it in the last {now - last:.0f} s)" if held and last else ""
        self._logger.warning("%s%s", message, more)
        return True
