"""Nodes are explicit: two in one OS process share nothing; code outside every node is told."""

from __future__ import annotations

import threading

import pytest
from primes_runtime import NoProcess, call, processes, register, send_after, start_server, whereis
from primes_runtime.errors import NoNode
from primes_runtime.host.node import Node
from primes_runtime.kernel.context import find_node
from rt_fixtures.waiting import wait_until

COUNTER = "rt_fixtures.counter"


def test_two_nodes_in_one_os_process_share_no_names_pids_or_processes() -> None:
    one, two = Node(min_workers=1), Node(min_workers=1)
    try:
        with one.entered():
            a = start_server(COUNTER, 1)
            register("shared_name", a)
            only_in_one = start_server(COUNTER, 3)
        with two.entered():
            b = start_server(COUNTER, 2)
            register("shared_name", b)  # free in this node
            assert call("shared_name", "get") == 2
            assert [p.pid for p in processes()] == [b]
            with pytest.raises(NoProcess):
                call(only_in_one, "get")  # the other node's process is not here
        with one.entered():
            assert call("shared_name", "get") == 1 and whereis("shared_name") == a
        assert a == b  # each node numbers its own pids
    finally:
        one.close()
        two.close()


def test_a_process_works_in_its_own_node_whichever_node_its_caller_is_in() -> None:
    one, two = Node(min_workers=1), Node(min_workers=1)
    try:
        with one.entered():
            pid = start_server(COUNTER, 5)
        proc = one.processes.resolve(pid)
        assert proc.node is one and two.processes.lookup(pid) is None
        with one.entered():
            send_after(0.0, pid, "tick")  # fired by node one's timer thread, into node one
            wait_until(lambda: call(pid, "seen") == [("info", "tick")], what="the timed message")
    finally:
        one.close()
        two.close()


def test_a_thread_outside_every_node_gets_one_clear_no_node_error() -> None:
    errors: list[BaseException] = []

    def outside() -> None:
        try:
            start_server(COUNTER)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=outside)
    thread.start()
    thread.join(10)
    assert find_node() is None
    assert len(errors) == 1 and isinstance(errors[0], NoNode)
    assert "with node.entered()" in str(errors[0])


def test_closing_a_node_kills_its_processes_and_ends_its_threads() -> None:
    before = {t.ident for t in threading.enumerate()}
    node = Node(min_workers=2)
    with node.entered():
        pid = start_server(COUNTER, 0)
        send_after(60.0, pid, "never")
        assert call(pid, "get") == 0
    proc = node.processes.resolve(pid)
    node.close()
    assert not proc.alive and node.processes.all() == []
    wait_until(
        lambda: {t.ident for t in threading.enumerate()} <= before, what="the node's threads to end"
    )


def test_a_thread_of_no_node_reaches_the_default_node_until_it_shuts_down() -> None:
    node = Node(min_workers=1)
    with node.entered():
        pid = start_server(COUNTER, 7)
    seen: list[object] = []

    def foreign() -> None:  # like frontman's HTTP threads: started by an app, in no node
        try:
            seen.append(call(pid, "get"))
        except BaseException as exc:
            seen.append(exc)

    node.make_default()
    thread = threading.Thread(target=foreign)
    thread.start()
    thread.join(10)
    node.close()
    assert seen == [7] and find_node() is None  # closed: no longer the default
