"""RateLog: a warning that repeats is logged once per interval, then with what was held back."""

from __future__ import annotations

import logging

import pytest
from asgi_host.ratelog import RateLog


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_repeated_warning_is_logged_once_per_interval_then_with_the_count_held_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    ratelog = RateLog(logging.getLogger("test.ratelog"), 10.0, clock)
    with caplog.at_level(logging.WARNING, "test.ratelog"):
        assert [ratelog.warn("cap", "full") for _ in range(1000)].count(True) == 1
        assert ratelog.warn("head", "slow")  # another kind has its own interval
        clock.now += 10.0
        assert ratelog.warn("cap", "full")
    assert [r.getMessage() for r in caplog.records] == [
        "full",
        "slow",
        "full (999 more like it in the last 10 s)",
    ]
