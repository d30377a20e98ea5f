"""Registered names: register, whereis, unregister, and names freed when a process dies."""

from __future__ import annotations

import pytest
from primes_runtime import (
    NoProcess,
    PrimesError,
    call,
    register,
    start_server,
    stop,
    unregister,
    whereis,
)

pytestmark = pytest.mark.usefixtures("node")

COUNTER = "rt_fixtures.counter"


def test_register_then_call_by_name_then_unregister() -> None:
    pid = start_server(COUNTER, 4)
    register("registry_test_a", pid)
    assert whereis("registry_test_a") == pid
    assert call("registry_test_a", "get") == 4
    unregister("registry_test_a")
    assert whereis("registry_test_a") is None
    with pytest.raises(NoProcess):
        call("registry_test_a", "get")


def test_a_taken_name_cannot_be_registered_again() -> None:
    a = start_server(COUNTER)
    b = start_server(COUNTER)
    register("registry_test_b", a)
    with pytest.raises(PrimesError, match="already registered"):
        register("registry_test_b", b)


def test_the_name_of_a_dead_process_is_free_again() -> None:
    a = start_server(COUNTER, name="registry_test_c")
    stop(a)
    assert whereis("registry_test_c") is None
    b = start_server(COUNTER, name="registry_test_c")
    assert whereis("registry_test_c") == b


def test_registering_a_dead_process_is_no_process() -> None:
    a = start_server(COUNTER)
    stop(a)
    with pytest.raises(NoProcess):
        register("registry_test_d", a)


def test_pid_prints_like_erlang() -> None:
    pid = start_server(COUNTER)
    assert str(pid) == f"<0.{pid.id}>"
