"""The old node's side of a hand-over: start the successor, pass everything, exit or roll back."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from primes_runtime.control import nodelock, pidfile
from primes_runtime.control.tree import Tree
from primes_runtime.errors import PrimesError
from primes_runtime.host import sdnotify
from primes_runtime.kernel import system
from primes_runtime.kernel.process import Process
from primes_runtime.release import interpreter, route
from primes_runtime.release import target as targets
from primes_runtime.release.errors import ReleaseError

from . import faults, states
from . import permanent as permanence
from .listeners import Listener
from .report import HandoverReport
from .wire import Channel, ChannelClosed, ChannelTimeout, Received

if TYPE_CHECKING:
    from primes_runtime.host.node import Node

log = logging.getLogger("primes_runtime.handover")

TIMEOUT_VAR = "PRIMES_HANDOVER_TIMEOUT"
DEFAULT_TIMEOUT = 30.0
DRAIN = 10.0
"""Seconds the requests in flight on the old node get to finish once nobody accepts."""

NODE_BOOT = "import sys; sys.path[0] = sys.argv.pop(1); from primes_runtime.node import run; run()"


def timeout() -> float:
    """Seconds the successor gets for each step (PRIMES_HANDOVER_TIMEOUT, default 30)."""
    raw = os.environ.get(TIMEOUT_VAR, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        value = DEFAULT_TIMEOUT
    return value if math.isfinite(value) and value > 0 else DEFAULT_TIMEOUT


def check(node: Node) -> int:
    """Export every process's state (each suspended for its own export only) without moving
    anything: the number that has state to hand over; Unportable names the first that cannot."""
    count = 0
    for key, proc in states.each(node):
        system.suspend(proc, timeout())
        try:
            count += states.export(key, proc) is not None
        finally:
            system.resume(proc)
    return count


@dataclass
class _Moves:
    """What the old node changed so far, to be put back if the hand-over fails."""

    paused: list[Listener] = field(default_factory=list)
    suspended: list[Process] = field(default_factory=list)
    made: permanence.Made | None = None
    committed: bool = False


def hand_over(
    node: Node, version: str, why: str, permanent: bool = True
) -> tuple[HandoverReport, Callable[[], None]]:
    """Hand the node over to a successor running release `version` (made permanent unless
    `permanent` is false: an install); the report and what ends this node once it is sent.
    ReleaseError (one line) if it failed: then the successor is gone and this node serves on
    with its state."""
    began = time.monotonic()
    limit = timeout()
    try:
        check(node)
    except states.Unportable as exc:
        raise ReleaseError(f"hand-over to release {version} refused: {exc}") from None
    root = Path(node.root)
    new = targets.load(root, version)
    python = _successor_python(root, node.release, version)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    chan = Channel(ours)
    moves = _Moves()
    step = "start"
    proc: subprocess.Popen[bytes] | None = None
    frozen_at = 0.0
    try:
        proc = _spawn(node, new.runtime_dir, version, theirs, python)
        theirs.close()
        faults.kill("leader", "spawned")
        listeners = list(node.listeners.values())
        held = nodelock.holding(Tree(root))
        if held is None:
            raise PrimesError("this node holds no node lock to pass on")
        step = "sockets"
        chan.send(
            {"op": "sockets", "keys": [lst.key for lst in listeners], "permanent": permanent},
            [*(lst.sock.fileno() for lst in listeners), held.fd],
        )
        faults.kill("leader", "sockets")
        step = "boot"
        _expect(chan, "booted", limit, proc)
        step = "freeze"
        frozen_at = time.monotonic()
        for listener in listeners:
            moves.paused.append(listener)
            listener.pause(DRAIN)
        exported = []
        for key, process in states.each(node):
            system.suspend(process, limit)
            moves.suspended.append(process)
            item = states.export(key, process)
            if item is not None:
                exported.append(asdict(item))
        faults.kill("leader", "frozen")
        step = "import"
        moving = [(lst.key, lst.connections()) for lst in listeners]
        chan.send(
            {"op": "states", "states": exported, "connections": [[k, len(f)] for k, f in moving]},
            [fd for _, fds in moving for fd in fds],
        )
        faults.kill("leader", "states")
        _expect(chan, "imported", limit, proc)
        step = "permanent"
        if permanent:
            moves.made = permanence.make(root, version)
        faults.kill("leader", "permanent")
        step = "commit"
        sdnotify.notify(f"MAINPID={proc.pid}\nSTATUS=release {version} running")
        moves.committed = True
        chan.send({"op": "commit"})
        faults.kill("leader", "commit")
        _expect(chan, "serving", limit, proc)
        faults.kill("leader", "served")
    except Exception as exc:  # whatever stopped it, the successor goes and this node serves on
        reason = _reason(exc, proc, root)
        _roll_back(node, root, moves, proc)
        raise ReleaseError(
            f"hand-over to release {version} failed at {step}: {reason}; this node (pid "
            f"{os.getpid()}) serves on with release {node.release} and every state"
        ) from None
    finally:
        chan.close()
        with contextlib.suppress(OSError):
            theirs.close()
    for listener in listeners:
        with contextlib.suppress(Exception):
            listener.release()
    report = HandoverReport(
        node.release, version, why, os.getpid(), proc.pid,
        tuple(lst.key for lst in listeners), len(exported),
        time.monotonic() - began, (time.monotonic() - frozen_at) * 1000, permanent,
    )  # fmt: skip
    log.info("handover: release %s serves in pid %d; this node exits", version, proc.pid)
    return report, _exit


def _successor_python(root: Path, running: str, version: str) -> str:
    """The interpreter the new release runs on: this one, or the one it names (found as the
    start script finds it), or for one that names none after one that did, its start
    command's; refused in one line, before anything moves, if the host lacks it."""
    target, configured = interpreter.wanted(targets.release_dir(root, version))
    if not target:
        start = route.unnamed_python(root, targets.load(root, running), targets.load(root, version))
        return start[0] if start is not None and start[1] != interpreter.own() else sys.executable
    if target == interpreter.own():
        return sys.executable
    found = interpreter.located(target, configured)
    if found is None:
        program, origin = interpreter.command(target, configured)
        raise ReleaseError(
            f"hand-over to release {version} refused: it runs on Python {target} and "
            f"{program} ({origin}) is not one here; install it or set [node] python"
        )
    return found


def _spawn(
    node: Node, runtime_dir: str, version: str, end: socket.socket, python: str
) -> subprocess.Popen[bytes]:
    """The successor: the new release's runtime in a session of its own, output to console.log."""
    root = Path(node.root)
    tree = Tree(root)
    tree.log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    console = os.open(tree.console_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    fd = end.fileno()
    command = [
        python, "-S", "-s", "-E", "-u", "-c", NODE_BOOT, str(root / runtime_dir),
        "--root", str(root), "--release", version, "--handover-fd", str(fd),
    ]  # fmt: skip
    try:
        return subprocess.Popen(
            command,
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=(fd,),
        )
    finally:
        os.close(console)


def _expect(chan: Channel, op: str, limit: float, proc: subprocess.Popen[bytes]) -> Received:
    """The successor's next message, which must be `op`; PrimesError saying why not."""
    got = chan.recv(limit)
    if got.op == "failed":
        raise PrimesError(f"the successor (pid {proc.pid}) said: {got.message.get('error')}")
    if got.op != op:
        raise PrimesError(f"the successor (pid {proc.pid}) sent {got.op!r}, not {op!r}")
    return got


def _reason(exc: BaseException, proc: subprocess.Popen[bytes] | None, root: Path) -> str:
    """One line: what went wrong, with the successor's exit status when it died."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if proc is None:
        return text
    if isinstance(exc, ChannelTimeout):
        return f"the successor (pid {proc.pid}) did not answer: {text}"
    if isinstance(exc, ChannelClosed):
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(2.0)
        status = proc.poll()
        said = f"exited with status {status}" if status is not None else "closed the channel"
        return f"the successor (pid {proc.pid}) {said}; see log/console.log"
    return text


def _roll_back(node: Node, root: Path, moves: _Moves, proc: subprocess.Popen[bytes] | None) -> None:
    """Stop the successor, then put back what moved: tree, sockets, processes."""
    if proc is not None:
        with contextlib.suppress(OSError):
            proc.send_signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10.0)
    tree = Tree(root)
    if moves.committed:
        sdnotify.notify(f"MAINPID={os.getpid()}\nSTATUS=release {node.release} running")
        with contextlib.suppress(OSError):
            pidfile.write(tree, os.getpid())
        held = nodelock.holding(tree)
        if held is not None:
            with contextlib.suppress(OSError):
                nodelock.claim(held)
    if moves.made is not None:
        try:
            permanence.undo(root, moves.made)
        except (OSError, ReleaseError) as exc:
            log.error("handover: putting RELEASES back failed: %s", exc)
    for process in moves.suspended:
        with contextlib.suppress(PrimesError):
            system.resume(process)
    for listener in moves.paused:
        try:
            listener.resume()
        except Exception:
            log.exception("handover: listener %s did not resume", listener.key)


def _exit() -> None:
    """End the old node: its requests in flight are done, the successor serves."""
    logging.shutdown()
    os._exit(0)
