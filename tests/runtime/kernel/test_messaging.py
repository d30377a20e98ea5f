"""Monitors and the small messaging rules not covered by the behaviour tests."""

from __future__ import annotations

import pytest
from primes_runtime import Down, PrimesError, call, monitor, start_server, stop
from rt_fixtures.waiting import wait_until

pytestmark = pytest.mark.usefixtures("node")

COUNTER = "rt_fixtures.counter"


def _downs(pid: object) -> list[Down]:
    seen = call(pid, "seen")  # type: ignore[arg-type]
    assert isinstance(seen, list)
    return [m[1] for m in seen if isinstance(m, tuple) and isinstance(m[1], Down)]


def test_monitor_delivers_down_with_the_exit_reason() -> None:
    watcher = start_server(COUNTER)
    target = start_server(COUNTER)
    ref = call(watcher, ("monitor", target))
    stop(target, "shutdown")
    wait_until(lambda: _downs(watcher), what="the Down message")
    assert _downs(watcher) == [Down(ref, target, "shutdown")]  # type: ignore[arg-type]


def test_monitor_of_a_dead_process_delivers_noproc_at_once() -> None:
    watcher = start_server(COUNTER)
    target = start_server(COUNTER)
    stop(target)
    ref = call(watcher, ("monitor", target))
    wait_until(lambda: _downs(watcher), what="the Down message")
    assert _downs(watcher) == [Down(ref, target, "noproc")]  # type: ignore[arg-type]


def test_monitor_outside_a_process_is_refused() -> None:
    target = start_server(COUNTER)
    with pytest.raises(PrimesError, match="inside a process"):
        monitor(target)


def test_a_process_calling_itself_fails_instead_of_hanging() -> None:
    pid = start_server(COUNTER)
    with pytest.raises(PrimesError):
        call(pid, ("call", pid, "get"))
