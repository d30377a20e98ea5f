"""The node's OS program (``python -m primes_runtime.node``): argv, signals, the tree's lock,
the recovery pass, a hand-over's successor side, the control channel, systemd readiness,
then a wait for the shutdown and an exit without the interpreter's teardown.

It sits above the release handler, the control channel and the hand-over, which it starts.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from ..errors import ConfigError, PrimesError
from ..host import sdnotify
from ..host.boot import boot, code_path, start_control
from ..host.node import Node
from ..kernel import threadstart
from ..loading import bytecode, collector
from ..loading.warm import WarmChild
from ..release import recovery
from .exiting import exit_now
from .signals import StopSignals

if TYPE_CHECKING:
    from primes_runtime.control.nodelock import Held

log = logging.getLogger("primes_runtime.node")


def _lock_tree(root: Path) -> Held | None:
    """Take the tree's node lock (control/nodelock.py) for this process's whole life."""
    if importlib.util.find_spec("primes_runtime.control") is None:
        return None  # no control channel installed: nothing else starts nodes on this tree
    from primes_runtime.control import nodelock
    from primes_runtime.control.tree import Tree

    return nodelock.acquire(Tree(root.resolve()))


def _recover(root: Path) -> tuple[str, ...]:
    """The release recovery pass (release/recovery.py) on the locked tree, before it boots."""
    try:
        return recovery.recover(root.resolve())
    except OSError as exc:
        raise ConfigError(f"the recovery pass of {root} failed: {exc}") from None


SWITCH_INTERVAL = 0.0005
"""Seconds a thread may hold the GIL while others wait (Python's default is 0.005)."""


def display_name(root: Path) -> str:
    """The name messages use before node.toml is read: the tree's start script, bin/<name>."""
    try:
        scripts = sorted(p.name for p in (root / "bin").iterdir() if p.is_file())
    except OSError:
        scripts = []
    return scripts[0] if len(scripts) == 1 else "node"


def main(argv: Sequence[str] | None = None) -> int:
    """Run a node in the foreground until SIGTERM/SIGINT; exit status 0 after a clean stop."""
    parser = argparse.ArgumentParser(prog="python -m primes_runtime.node")
    parser.add_argument("--root", required=True, type=Path, help="the deployed tree")
    parser.add_argument("--release", default=None, help="version to boot (default: permanent)")
    parser.add_argument(
        "--ready-fd", type=int, default=None, help="write READY here once serving (start does)"
    )
    parser.add_argument(
        "--handover-fd", type=int, default=None, help="boot as the successor of the node on it"
    )
    opts = parser.parse_args(argv)
    if opts.ready_fd is not None:
        from primes_runtime.control import ready

        ready.keep_private(opts.ready_fd)

    holder: list[Node] = []
    deferred: list[float] = []  # a shutdown no thread could start for: the main thread's

    def stop_in_background(signum: int) -> None:
        log.info("node: got signal %d", signum)
        node = holder[0]
        bound = node.config.shutdown_timeout
        failsafe = threading.Timer(bound + 5.0, os._exit, args=(0,))
        failsafe.daemon = True
        threadstart.started(failsafe, "no exit is forced if the shutdown hangs")
        worker = threading.Thread(target=node.shutdown, args=(bound,), name="shutdown", daemon=True)
        if not threadstart.started(worker, "the main thread shuts the node down"):
            deferred.append(bound)

    signals = StopSignals(stop_in_background)  # the handler only notes; a thread begins
    signals.install()
    # A message crosses several threads (connection, scheduler worker, caller); each
    # hand-off may wait a whole GIL switch interval while another thread computes (an
    # upgrade hashing and compiling its package). 5 ms by default; 0.5 ms keeps a
    # caller's worst pause during an upgrade within a few ms (docs/benchmarks.md).
    sys.setswitchinterval(SWITCH_INTERVAL)
    successor = opts.handover_fd is not None
    held: Held | None
    try:
        if successor:
            # the successor's side of a hand-over needs the control channel (as _lock_tree)
            from primes_runtime.handover.successor import take_over

            taken, node = take_over(Path(opts.root), opts.release, opts.handover_fd)
            held = taken
            repairs: tuple[str, ...] = ()
        else:
            held = _lock_tree(Path(opts.root))
            repairs = _recover(Path(opts.root))
            node = boot(opts.root, opts.release)
    except PrimesError as exc:
        print(f"{display_name(opts.root)}: cannot boot: {exc}", file=sys.stderr)
        return 1
    for repair in repairs:
        log.warning("recovery at start: %s", repair)
    holder.append(node)
    signals.arm()  # a signal during boot begins the shutdown now
    if not signals.received:
        try:
            if not successor:  # a successor serves its predecessor's control socket already
                with node.entered():  # (a SIGTERM may have begun the shutdown meanwhile)
                    start_control(node)
        except Exception as exc:
            log.exception("node: the control channel did not start")
            print(f"{node.config.name}: control channel did not start: {exc}", file=sys.stderr)
            node.shutdown()
            return 1
        sdnotify.attach(node.release)  # systemd Type=notify: READY=1 now, STOPPING=1 on SIGTERM
        if opts.ready_fd is not None:
            ready.announce(opts.ready_fd)  # `start` waits on it (control/ready.py)
        collector.freeze_boot()  # what boot made is out of the collector's walks (collector.py)

        if node.manifest is not None:  # a fresh tree has no bytecode: compile it off the GIL
            bytecode.in_background(code_path(Path(node.root), node.manifest), lambda: preload(node))
    while not node.wait(1.0):
        signals.check()  # (the watcher thread's work, if it could not start)
        if deferred:
            node.shutdown(deferred.pop())
    if held is not None:
        held.release()
    return 0


PRELOADED = ("primes_runtime.release.handler",)
"""What the node imports once its code is compiled, not at its first release operation:
the release handler (~45 modules, 50-150 ms of the first `upgrade` otherwise)."""


WARMED = ("primes_runtime.release.unpacker",)
"""What the node's warm child imports, to fork a worker for each package (loading/warm.py)."""


def preload(node: Node) -> None:
    """Import PRELOADED and start the warm child; a failure is left to the operation that
    needs them to report (an unpack without a warm child starts a fresh one)."""
    for name in PRELOADED:
        try:
            importlib.import_module(name)
        except Exception:  # the operation that needs the module reports the failure
            log.debug("node: preloading %s failed", name, exc_info=True)
    if node.warm is None and not node.stopped:
        node.warm = WarmChild.start(WARMED)


def run() -> NoReturn:
    """The node's program: :func:`main`, then an exit without the interpreter's teardown."""
    exit_now(main())
