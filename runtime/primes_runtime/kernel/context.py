"""Which node the code on this thread belongs to: its process's node, else the thread's."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from ..errors import NoNode

if TYPE_CHECKING:
    from ..host.node import Node
    from .process import Process


class _Here(threading.local):
    """Per thread: the process it runs now, the app a start belongs to, the node entered.

    Class-level defaults: reading an attribute never set on this thread costs no
    AttributeError (a ``getattr`` default would cost ~10 times more)."""

    proc: Process | None = None
    app: str | None = None
    node: Node | None = None


_tls = _Here()


def thread_record() -> _Here:
    """This thread's record (``proc``, ``app``, ``node``), for a loop that sets the running
    process of each of 10,000 calls itself (`swap_process` costs twice as much)."""
    return _tls


task_process: ContextVar[Process | None] = ContextVar("primes_task_process", default=None)
"""On a node's event loop thread: the async process whose task runs now (aioloop.py)."""


class _Default:
    """The OS process's default node: the node of threads that belong to no process and
    entered no node (threads an app starts itself, such as frontman's HTTP handlers)."""

    __slots__ = ("node",)

    def __init__(self) -> None:
        self.node: Node | None = None


_DEFAULT = _Default()  # the one per-OS-process reference (docs/process-model.md, "The node")


def default_node() -> Node | None:
    """The node made the OS process's default (:func:`primes_runtime.node.boot` does it)
    until it shuts down; None otherwise."""
    return _DEFAULT.node


def set_default(node: Node | None) -> None:
    """Make ``node`` the OS process's default node (None: no default)."""
    _DEFAULT.node = node


def clear_default(node: Node) -> None:
    """Stop ``node`` being the default node, if it is."""
    if _DEFAULT.node is node:
        _DEFAULT.node = None


def current_process() -> Process | None:
    """The process whose code this thread (or, on the event loop, this task) runs now."""
    proc = _tls.proc
    if proc is None:
        return task_process.get()
    return proc


def current_app() -> str | None:
    """The application a process started now would belong to."""
    proc = current_process()
    if proc is not None:
        return proc.app
    return _tls.app


def find_node() -> Node | None:
    """The node of this thread's process, else the node the thread entered, else the OS
    process's default node (the booted one; for threads an app starts itself), else None."""
    proc = _tls.proc
    if proc is not None:
        return proc.node
    node = _tls.node
    if node is not None:
        return node
    return _DEFAULT.node


def current_node() -> Node:
    """Like :func:`find_node`, but raise NoNode with what to do."""
    proc = _tls.proc
    if proc is not None:
        return proc.node
    node = _tls.node
    if node is None:
        node = _DEFAULT.node
    if node is None:
        raise NoNode(
            "no node: call this from inside a process, from a thread that entered a node "
            "(with node.entered():), or in a booted node"
        )
    return node


@contextmanager
def entered(node: Node | None) -> Iterator[None]:
    """Make ``node`` this thread's node for the block (runtime threads, tests, boot)."""
    prev = _tls.node
    _tls.node = node
    try:
        yield
    finally:
        _tls.node = prev


def enter(node: Node) -> None:
    """Make ``node`` this thread's node for good (a runtime-owned thread's first step)."""
    _tls.node = node


@contextmanager
def app_context(app: str | None) -> Iterator[None]:
    """Run a block (an application's start) so that processes it starts belong to ``app``."""
    prev_app = _tls.app
    prev_proc = _tls.proc
    prev_node = _tls.node
    if prev_proc is not None:
        _tls.node = prev_proc.node  # the block still runs in that process's node
    _tls.app, _tls.proc = app, None
    try:
        yield
    finally:
        _tls.app, _tls.proc, _tls.node = prev_app, prev_proc, prev_node


@contextmanager
def running_as(proc: Process | None) -> Iterator[None]:
    """Make ``self_pid()`` return ``proc`` for the block (init, code_change, terminate)."""
    prev = _tls.proc
    _tls.proc = proc
    try:
        yield
    finally:
        _tls.proc = prev


def swap_process(proc: Process | None) -> Process | None:
    """Set this thread's running process (a scheduler worker's slice); return the previous."""
    prev = _tls.proc
    _tls.proc = proc
    return prev
