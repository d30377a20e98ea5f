"""The successor's side of a hand-over: take the sockets, boot, import, serve on commit."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from primes_runtime import system
from primes_runtime.control import nodelock, pidfile
from primes_runtime.control.tree import Tree
from primes_runtime.errors import PrimesError

from . import faults, states
from .wire import Channel

if TYPE_CHECKING:
    from primes_runtime.node import Node

log = logging.getLogger("primes_runtime.handover")

WAIT = 120.0
"""Seconds the successor waits for its predecessor's next message (it sets the deadlines)."""


def take_over(root: Path, release: str | None, fd: int) -> tuple[nodelock.Held, Node]:
    """Run the successor's steps on channel `fd`; the node once it serves. On any failure it
    tells the old node in one line and exits (the old node serves on)."""
    from primes_runtime.node import boot

    chan = Channel(socket.socket(fileno=fd))
    tree = Tree(root.resolve())
    try:
        got = chan.recv(WAIT)
        keys = [str(k) for k in _list(got.message, "keys")]
        if got.op != "sockets" or len(got.fds) != len(keys) + 1:
            raise PrimesError(f"expected the sockets and the node lock, got {got.op!r}")
        held = nodelock.adopt(tree, got.fds[-1])
        faults.at("boot")
        node = boot(tree.root, release, inherited=dict(zip(keys, got.fds, strict=False)))
        chan.send({"op": "booted", "pid": os.getpid()})
        got = chan.recv(WAIT)
        if got.op != "states":
            raise PrimesError(f"expected the states, got {got.op!r}")
        node.inherited_connections = _connections(got.message, got.fds)
        faults.at("import")
        count = _import(node, _list(got.message, "states"))
        chan.send({"op": "imported", "count": count})
        got = chan.recv(WAIT)
        if got.op != "commit":
            raise PrimesError(f"expected commit, got {got.op!r}")
        faults.at("hang")
        _serve(node, tree, held)
        chan.send({"op": "serving", "pid": os.getpid()})
    except Exception as exc:  # whatever stops it, the old node must hear it in one line
        _give_up(chan, exc)
    chan.close()
    log.info("handover: this node (pid %d) serves release %s", os.getpid(), node.release)
    return held, node


def _list(message: dict[str, object], key: str) -> list[object]:
    value = message.get(key)
    if not isinstance(value, list):
        raise PrimesError(f"the hand-over message has no list {key!r}")
    return value


def _connections(message: dict[str, object], fds: tuple[int, ...]) -> dict[str, list[int]]:
    """The idle connections passed with the states, by listener key."""
    found: dict[str, list[int]] = {}
    at = 0
    for item in _list(message, "connections"):
        if not isinstance(item, list) or len(item) != 2:
            raise PrimesError("a handed-over connection count is not [key, count]")
        count = int(item[1])
        found[str(item[0])] = list(fds[at : at + count])
        at += count
    if at != len(fds):
        raise PrimesError(f"{len(fds)} connections came, {at} were announced")
    return found


def _import(node: Node, exported: list[object]) -> int:
    """Give each keyed process of this node the state its predecessor exported."""
    mine = states.keys(node)
    count = 0
    for item in exported:
        if not isinstance(item, dict):
            raise PrimesError("a handed-over state is not an object")
        state = states.Exported(**{k: str(item[k]) for k in ("key", "module", "app_vsn", "data")})
        proc = mine.get(state.key)
        if proc is None:
            raise states.Unportable(
                f"the new release has no process {state.key} ({state.module}) to take its state"
            )
        system.suspend(proc, 30.0)
        try:
            states.import_into(proc, state)
        finally:
            system.resume(proc)
        count += 1
    return count


def _serve(node: Node, tree: Tree, held: nodelock.Held) -> None:
    """Take the tree (pid file, lock record), the control socket, then every listener."""
    from primes_runtime.node import _start_control

    pidfile.write(tree, os.getpid())
    nodelock.claim(held)
    _start_control(node)
    node.adopting = False
    for listener in list(node.listeners.values()):
        listener.resume()


def _give_up(chan: Channel, exc: BaseException) -> NoReturn:
    """Tell the old node why in one line, then exit at once (it keeps serving)."""
    line = " ".join(str(exc).split()) or type(exc).__name__
    log.error("handover: the successor (pid %d) gives up: %s", os.getpid(), line)
    print(f"handover: the successor gives up: {line}", file=sys.stderr)
    with contextlib.suppress(PrimesError):
        chan.send({"op": "failed", "error": line})
    logging.shutdown()
    os._exit(1)
