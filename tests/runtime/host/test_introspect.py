"""Introspection returns frozen snapshots with name, behaviour, module, mailbox and status."""

from __future__ import annotations

import dataclasses

import pytest
from primes_runtime import cast, processes, start_server, start_statem
from primes_runtime.host.introspect import ProcessInfo
from primes_runtime.kernel import system

pytestmark = pytest.mark.usefixtures("node")


def info(pid: object) -> ProcessInfo:
    return next(p for p in processes() if p.pid == pid)


def test_processes_describe_each_live_process() -> None:
    s = start_server("rt_fixtures.counter", name="introspect_test_server")
    m = start_statem("rt_fixtures.ticker", 100.0)
    server, machine = info(s), info(m)
    assert (server.name, server.behaviour, server.module) == (
        "introspect_test_server",
        "server",
        "rt_fixtures.counter",
    )
    assert (machine.behaviour, machine.status, machine.mailbox_len) == ("statem", "running", 0)


def test_a_suspended_process_shows_its_status_and_mailbox_length() -> None:
    pid = start_server("rt_fixtures.counter")
    system.suspend(pid, 1.0)
    cast(pid, 1)
    cast(pid, 2)
    snap = info(pid)
    assert (snap.status, snap.mailbox_len) == ("suspended", 2)
    system.resume(pid)


def test_snapshots_are_frozen() -> None:
    snap = info(start_server("rt_fixtures.counter"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.status = "x"  # type: ignore[misc]
