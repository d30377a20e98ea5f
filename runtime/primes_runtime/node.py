"""The node: boots a release from its manifest, runs its apps, shuts down on SIGTERM.

``python -m primes_runtime.node --root ROOT [--release VSN]`` boots the release (the
permanent one from releases/start_data when no version is given), starts the control
channel if it is installed, and runs until SIGTERM/SIGINT or a ``shutdown`` request;
then it stops the apps in reverse order within node.shutdown_timeout and exits 0.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from . import application, context, threadstart
from . import manifest as release_manifest
from .errors import ConfigError, PrimesError
from .formats import FormatError, start_data
from .registry import ProcessTable
from .scheduler import Scheduler, default_min_workers
from .timers import Timers

if TYPE_CHECKING:
    from types import FrameType

    from primes_runtime.control.nodelock import Held

    from .aioloop import EventLoop
    from .config import NodeConfig
    from .handover.listeners import Listener

# argparse, signal, sysconfig, importlib.util, logsetup and config (tomllib, difflib) are
# imported where used: a Node() in a test or benchmark costs no more memory than the
# runtime it runs.

log = logging.getLogger("primes_runtime.node")


class Node:
    """One node: its process table, scheduler, timers, application controller, release
    lock and parsed config; once booted, also its tree, running release and manifest.

    ``Node()`` alone is a node with no tree (tests, benchmarks): enter it with
    :meth:`entered` to start processes from a plain thread. :func:`boot` makes the node
    of a deployed tree.
    """

    def __init__(
        self,
        root: Path | None = None,
        release: str = "",
        manifest: release_manifest.Manifest | None = None,
        config: NodeConfig | None = None,
        *,
        min_workers: int | None = None,
    ) -> None:
        self.root = root if root is not None else Path(".")
        self.release = release  # the running release; the release handler changes it
        self.manifest = manifest
        self._config = config
        self.processes = ProcessTable()
        workers = min_workers if min_workers is not None else default_min_workers()
        self.scheduler = Scheduler(min_workers=workers)
        self.timers = Timers()
        self.applications = application.Applications(self)
        self.release_lock = threading.RLock()  # one release operation at a time
        self._log_handler: logging.Handler | None = None
        self._callbacks: list[Callable[[], None]] = []
        self._aio: EventLoop | None = None
        # What still runs old code after an upgrade (an ASGI host's websockets), by owner:
        # each callable returns one line per item; status and upgrade reports list them
        # (an upgrade report passes handover=True: once listed, they may be handed over).
        self.lingering: dict[object, Callable[[bool], list[str]]] = {}
        self.listeners: dict[str, Listener] = {}  # what a hand-over passes on (handover/)
        self.inherited: dict[str, int] = {}  # descriptors a predecessor handed over, by key
        self.inherited_connections: dict[str, list[int]] = {}  # and its idle connections
        self.adopting = False  # a successor until its predecessor let it serve
        self._lock = threading.Lock()
        self._stopping = False
        self._done = threading.Event()

    @property
    def config(self) -> NodeConfig:
        """The running release's node.toml, parsed (all defaults for a node with no tree)."""
        if self._config is None:
            from .config import NodeConfig

            self._config = NodeConfig()
        return self._config

    @config.setter
    def config(self, value: NodeConfig) -> None:
        self._config = value

    @property
    def aio(self) -> EventLoop:
        """The node's event loop, where async processes run (started on first use)."""
        aio = self._aio
        if aio is None:
            with self._lock:
                aio = self._aio
                if aio is None:
                    from .aioloop import EventLoop

                    aio = self._aio = EventLoop(self, self.config.aio.block_threshold)
        return aio

    def lingering_lines(self, handover: bool = False) -> list[str]:
        """Every line the ``lingering`` callables give now (one that raises is skipped)."""
        lines: list[str] = []
        for fn in list(self.lingering.values()):
            try:
                lines.extend(fn(handover))
            except Exception:
                log.exception("node: a lingering-code reporter raised")
        return lines

    def entered(self) -> AbstractContextManager[None]:
        """Make this the calling thread's node for a ``with`` block."""
        return context.entered(self)

    def make_default(self) -> None:
        """Make this the node of threads that belong to no process and entered no node
        (:func:`boot` does it; until shutdown)."""
        context.set_default(self)

    def on_shutdown(self, fn: Callable[[], None]) -> None:
        """Run ``fn()`` during shutdown, after the apps stopped (in registration order)."""
        self._callbacks.append(fn)

    def shutdown(self, timeout: float | None = None) -> None:
        """Stop the apps in reverse start order within ``timeout`` seconds (default:
        node.shutdown_timeout), then run the on_shutdown callbacks. Idempotent."""
        with self._lock:
            if self._stopping:
                first = False
            else:
                self._stopping = first = True
        if not first:
            self._done.wait()
            return
        bound = self.config.shutdown_timeout if timeout is None else timeout
        log.info("node %s: shutting down release %s", self.config.name, self.release)
        try:
            self.applications.stop_all(bound)
            for fn in self._callbacks:
                try:
                    fn()
                except Exception:
                    log.exception("node: a shutdown callback raised")
            log.info("node %s: stopped", self.config.name)
        finally:
            context.clear_default(self)  # a stopped node is no longer the default one
            self._done.set()

    def close(self, timeout: float = 5.0) -> None:
        """Shut down, kill the processes still alive, and let the node's threads exit."""
        self.shutdown(timeout)
        for proc in reversed(self.processes.all()):
            proc.finish("shutdown")
        self.timers.close()
        self.scheduler.close()
        if self._aio is not None:
            self._aio.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the node has shut down (or `timeout` seconds passed); True once it has."""
        if timeout is not None:
            return self._done.wait(timeout)
        while not self._done.wait(1.0):  # a timeout keeps the main thread signal-responsive
            pass
        return True

    @property
    def stopped(self) -> bool:
        """True once shutdown has finished."""
        return self._done.is_set()


def current() -> Node | None:
    """The node the calling code runs in (its process's, its thread's, or the default one)."""
    return context.find_node()


def default_node() -> Node | None:
    """The node :func:`boot` (or :meth:`Node.make_default`) made the OS process's default,
    until it shuts down; None otherwise."""
    return context.default_node()


def permanent_release(root: Path) -> str:
    """The version releases/start_data names (its first field)."""
    path = root / start_data.PATH
    try:
        return start_data.parse(path.read_text(encoding="utf-8"), str(path)).version
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror}); pass --release VSN") from None
    except (FormatError, UnicodeDecodeError) as exc:
        raise ConfigError(str(exc)) from None


def stdlib_paths() -> list[str]:
    """The entries of sys.path that belong to the standard library (no site-packages)."""
    import sysconfig

    roots = {
        os.path.normpath(p)
        for p in (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
    }
    keep = []
    for entry in sys.path:
        if not entry or "site-packages" in entry or "dist-packages" in entry:
            continue
        norm = os.path.normpath(entry)
        zipped = norm.endswith(".zip") and os.path.dirname(norm) in {
            os.path.dirname(r) for r in roots
        }
        if zipped or any(norm == r or norm.startswith(r + os.sep) for r in roots):
            keep.append(entry)
    return keep


def code_path(root: Path, manifest: release_manifest.Manifest) -> list[str]:
    """The runtime dir, each app's code dir, then the libraries in dependency order."""
    apps = [root / app.path for app in manifest.apps]
    libraries = [root / lib.path for lib in manifest.libraries]
    return [str(d) for d in (root / manifest.runtime.path, *apps, *libraries)]


def boot_path(root: Path, manifest: release_manifest.Manifest) -> list[str]:
    """The node's sys.path: the runtime dir and the apps, the standard library, then the
    libraries, so that no library shadows an app or a standard module."""
    code = code_path(root, manifest)
    ours = len(code) - len(manifest.libraries)
    return [*code[:ours], *stdlib_paths(), *code[ours:]]


def boot(
    root: Path,
    version: str | None = None,
    *,
    set_path: bool = True,
    inherited: dict[str, int] | None = None,
) -> Node:
    """Boot release ``version`` (default: the permanent one) of the tree at ``root``.

    Reads the manifest and node.toml, logs to root/log/node.log, sets sys.path to
    :func:`boot_path` (``set_path=False`` leaves sys.path alone, for tests), and starts the
    apps in manifest order. ``inherited`` (a successor's boot, handover/successor.py): the
    listening sockets its predecessor passed, by key; the node boots without serving them.
    """
    from . import logsetup

    root = Path(root).resolve()
    version = version if version is not None else permanent_release(root)
    from . import config as node_config

    manifest = release_manifest.load(root, version)
    config = node_config.load(root, version)
    handler = logsetup.setup(root, config.log_max_bytes, config.log_backups)
    threading.excepthook = _log_thread_crash
    if set_path:
        sys.path[:] = boot_path(root, manifest)
        importlib.invalidate_caches()
    node = Node(root, version, manifest, config)
    node._log_handler = handler
    if inherited is not None:
        node.inherited, node.adopting = dict(inherited), True
    node.applications.configure(root, config.env)
    node.make_default()
    node.scheduler.start()  # its workers exist before the node serves, whatever comes later
    log.info("node %s: booting release %s from %s", config.name, version, root)
    try:
        node.applications.start_all(manifest.apps)
    except Exception:
        log.exception("node %s: boot failed; stopping what started", config.name)
        node.shutdown(config.shutdown_timeout)
        raise
    log.info("node %s: release %s running", config.name, version)
    return node


def _log_thread_crash(args: threading.ExceptHookArgs) -> None:
    name = args.thread.name if args.thread is not None else "?"
    exc = args.exc_value
    log.error(
        "thread %s crashed: %r",
        name,
        exc,
        exc_info=(args.exc_type, exc, args.exc_traceback) if exc is not None else None,
    )


def _start_control(node: Node) -> None:
    import importlib.util

    name = "primes_runtime.control.server"
    try:
        found = importlib.util.find_spec(name)
    except ModuleNotFoundError:
        found = None
    if found is None:
        log.info("node: no control channel installed")
        return
    importlib.import_module(name).start(node)


def _lock_tree(root: Path) -> Held | None:
    """Take the tree's node lock (control/nodelock.py) for this process's whole life."""
    if importlib.util.find_spec("primes_runtime.control") is None:
        return None  # no control channel installed: nothing else starts nodes on this tree
    from primes_runtime.control import nodelock
    from primes_runtime.control.tree import Tree

    return nodelock.acquire(Tree(root.resolve()))


def _recover(root: Path) -> tuple[str, ...]:
    """The release recovery pass (release/recovery.py) on the locked tree, before it boots."""
    from primes_runtime.release import recovery

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
    import argparse
    import signal

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

    signalled = threading.Event()
    holder: list[Node] = []
    deferred: list[float] = []  # a shutdown no thread could start for: the main thread's

    def stop_in_background() -> None:
        node = holder[0]
        bound = node.config.shutdown_timeout
        failsafe = threading.Timer(bound + 5.0, os._exit, args=(0,))
        failsafe.daemon = True
        threadstart.started(failsafe, "no exit is forced if the shutdown hangs")
        worker = threading.Thread(target=node.shutdown, args=(bound,), name="shutdown", daemon=True)
        if not threadstart.started(worker, "the main thread shuts the node down"):
            deferred.append(bound)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not signalled.is_set():
            signalled.set()
            log.info("node: got signal %d", signum)
            if holder:
                stop_in_background()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # A message crosses several threads (connection, scheduler worker, caller); each
    # hand-off may wait a whole GIL switch interval while another thread computes (an
    # upgrade hashing and compiling its package). 5 ms by default; 0.5 ms keeps a
    # caller's worst pause during an upgrade within a few ms (docs/benchmarks.md).
    sys.setswitchinterval(SWITCH_INTERVAL)
    successor = opts.handover_fd is not None
    held: Held | None
    try:
        if successor:
            from .handover.successor import take_over

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
    if signalled.is_set():
        stop_in_background()
    else:
        try:
            if not successor:  # a successor serves its predecessor's control socket already
                with node.entered():  # (a SIGTERM may have begun the shutdown meanwhile)
                    _start_control(node)
        except Exception as exc:
            log.exception("node: the control channel did not start")
            print(f"{node.config.name}: control channel did not start: {exc}", file=sys.stderr)
            node.shutdown()
            return 1
        from . import sdnotify

        sdnotify.attach(node.release)  # systemd Type=notify: READY=1 now, STOPPING=1 on SIGTERM
        if opts.ready_fd is not None:
            ready.announce(opts.ready_fd)  # `start` waits on it (control/ready.py)
        from . import bytecode, collector

        collector.freeze_boot()  # what boot made is out of the collector's walks (collector.py)

        if node.manifest is not None:  # a fresh tree has no bytecode: compile it off the GIL
            bytecode.in_background(code_path(Path(node.root), node.manifest))
    while not node.wait(1.0):
        if deferred:
            node.shutdown(deferred.pop())
    if held is not None:
        held.release()
    return 0


def run() -> NoReturn:
    """The node's program: :func:`main`, then an exit without the interpreter's teardown."""
    from primes_runtime.exiting import exit_now

    exit_now(main())


if __name__ == "__main__":
    # Run the main() of the imported module, not of this __main__ copy, so that
    # primes_runtime.node.default_node() (what threads apps start use) sees the node.
    from primes_runtime.node import run as _run

    _run()
