"""The successor's side of a hand-over: take the sockets, boot, import, serve on commit."""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from primes_runtime.control import nodelock, pidfile
from primes_runtime.control.tree import Tree
from primes_runtime.errors import PrimesError
from primes_runtime.host.boot import boot
from primes_runtime.host.boot import start_control as _start_control
from primes_runtime.kernel import system

from . import faults, states
from . import permanent as permanence
from .wire import Channel, ChannelClosed

if TYPE_CHECKING:
    from primes_runtime.host.node import Node

log = logging.getLogger("primes_runtime.handover")

WAIT = 120.0
"""Seconds the successor waits for its predecessor's next message (it sets the deadlines)."""
GONE_WAIT = 5.0
"""Seconds the successor waits for a predecessor that closed the channel to be gone."""


def take_over(root: Path, release: str | None, fd: int) -> tuple[nodelock.Held, Node]:
    """Run the successor's steps on channel `fd`; the node once it serves. On any failure
    before it holds every state it tells the old node in one line and exits (the old node
    serves on); if the old node dies once it holds them, it finishes the hand-over alone."""

    chan = Channel(socket.socket(fileno=fd))
    tree = Tree(root.resolve())
    leader = Leader()
    try:
        got = chan.recv(WAIT)
        keys = [str(k) for k in _list(got.message, "keys")]
        if got.op != "sockets" or len(got.fds) != len(keys) + 1:
            raise PrimesError(f"expected the sockets and the node lock, got {got.op!r}")
        held = nodelock.adopt(tree, got.fds[-1])
        permanent = got.message.get("permanent", True) is not False  # false: an install
        faults.kill("successor", "sockets")
        faults.at("boot")
        node = boot(tree.root, release, inherited=dict(zip(keys, got.fds, strict=False)))
        chan.send({"op": "booted", "pid": os.getpid()})
        faults.kill("successor", "booted")
        got = chan.recv(WAIT)
        if got.op != "states":
            raise PrimesError(f"expected the states, got {got.op!r}")
        node.inherited_connections = _connections(got.message, got.fds)
        faults.at("import")
        count = _import(node, _list(got.message, "states"))
    except Exception as exc:  # whatever stops it, the old node must hear it in one line
        _give_up(chan, exc)
    try:
        chan.send({"op": "imported", "count": count})
        faults.kill("successor", "imported")
        got = chan.recv(WAIT)
        if got.op != "commit":
            raise PrimesError(f"expected commit, got {got.op!r}")
        faults.kill("successor", "commit")
        faults.at("hang")
    except ChannelClosed as exc:
        if not leader.gone(GONE_WAIT):
            _give_up(chan, exc)
        _alone(node, tree, leader.pid, permanent)
    except Exception as exc:
        _give_up(chan, exc)
    try:
        _serve(node, tree, held)
    except Exception as exc:
        _give_up(chan, exc)
    faults.kill("successor", "served")
    with contextlib.suppress(ChannelClosed):  # the old node died after commit: this one serves
        chan.send({"op": "serving", "pid": os.getpid()})
    faults.kill("successor", "serving")
    chan.close()
    leader.close()
    log.info("handover: this node (pid %d) serves release %s", os.getpid(), node.release)
    return held, node


class Leader:
    """The old node, this process's parent: whether it died (not merely closed the channel)."""

    def __init__(self) -> None:
        self.pid = os.getppid()
        try:
            self.fd = os.pidfd_open(self.pid)
        except OSError:
            self.fd = -1  # no pidfds here: the old node counts as alive, the successor gives up

    def gone(self, wait: float) -> bool:
        """True once the old node has exited (waiting up to `wait` s for it to)."""
        if os.getppid() != self.pid:
            return True
        if self.fd < 0:
            return False
        readable, _, _ = select.select([self.fd], [], [], wait)
        return bool(readable)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _alone(node: Node, tree: Tree, leader: int, permanent: bool) -> None:
    """The old node died once this one held every state: make the release permanent (it
    may have done so already; not for an install) and serve, as its commit would have had
    this node do."""
    log.warning(
        "handover: the old node (pid %d) died after this node (pid %d) took every state; "
        "this node finishes the hand-over alone",
        leader,
        os.getpid(),
    )
    if not permanent:
        return
    try:
        permanence.make(tree.root, node.release)
    except (OSError, PrimesError) as exc:
        log.error(
            "handover: making release %s permanent failed (%s); a restart boots the old one",
            node.release,
            " ".join(str(exc).split()),
        )


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
