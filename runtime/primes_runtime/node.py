"""The node: boots a release from its manifest, runs its apps, shuts down on SIGTERM.

``python -m primes_runtime.node --root ROOT [--release VSN]`` boots the release (the
permanent one from releases/start_data when no version is given), starts the control
channel if it is installed, and runs until SIGTERM/SIGINT or a ``shutdown`` request;
then it stops the apps in reverse order within node.shutdown_timeout and exits 0.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import signal
import sys
import sysconfig
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from . import application, logsetup, sdnotify
from . import config as node_config
from . import manifest as release_manifest
from .errors import ConfigError, PrimesError

log = logging.getLogger("primes_runtime.node")

_current: Node | None = None


class Node:
    """A booted node: its tree, running release, manifest and config."""

    def __init__(
        self,
        root: Path,
        release: str,
        manifest: release_manifest.Manifest,
        config: node_config.NodeConfig,
        log_handler: logging.Handler | None,
    ) -> None:
        self.root = root
        self.release = release  # the running release; the release handler changes it
        self.manifest = manifest
        self.config = config
        self._log_handler = log_handler
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._stopping = False
        self._done = threading.Event()

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
            application.stop_all(bound)
            for fn in self._callbacks:
                try:
                    fn()
                except Exception:
                    log.exception("node: a shutdown callback raised")
            log.info("node %s: stopped", self.config.name)
        finally:
            global _current
            if _current is self:
                _current = None  # a stopped node is no longer the current one
            self._done.set()

    def wait(self) -> None:
        """Block until the node has shut down."""
        while not self._done.wait(1.0):  # a timeout keeps the main thread signal-responsive
            pass

    @property
    def stopped(self) -> bool:
        """True once shutdown has finished."""
        return self._done.is_set()


def current() -> Node | None:
    """The node booted in this OS process, if any."""
    return _current


def permanent_release(root: Path) -> str:
    """The version releases/start_data names (its first field)."""
    path = root / "releases" / "start_data"
    try:
        fields = path.read_text(encoding="utf-8").split()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror}); pass --release VSN") from None
    if not fields:
        raise ConfigError(f"{path}: empty; it must say '<vsn> <runtime dir>'")
    return fields[0]


def stdlib_paths() -> list[str]:
    """The entries of sys.path that belong to the standard library (no site-packages)."""
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
    """The runtime dir, then each app's code dir, in the manifest's order."""
    dirs = [root / manifest.runtime.path, *(root / app.path for app in manifest.apps)]
    return [str(d) for d in dirs]


def boot(root: Path, version: str | None = None, *, set_path: bool = True) -> Node:
    """Boot release ``version`` (default: the permanent one) of the tree at ``root``.

    Reads the manifest and node.toml, logs to root/log/node.log, sets sys.path to the
    runtime dir + app code dirs + the standard library (``set_path=False`` leaves
    sys.path alone, for tests), and starts the apps in manifest order.
    """
    global _current
    root = Path(root).resolve()
    version = version if version is not None else permanent_release(root)
    manifest = release_manifest.load(root, version)
    config = node_config.load(root, version)
    handler = logsetup.setup(root, config.log_max_bytes, config.log_backups)
    threading.excepthook = _log_thread_crash
    if set_path:
        sys.path[:] = [*code_path(root, manifest), *stdlib_paths()]
        importlib.invalidate_caches()
    application.configure(root, config.env)
    node = Node(root, version, manifest, config, handler)
    _current = node
    log.info("node %s: booting release %s from %s", config.name, version, root)
    try:
        application.start_all(manifest.apps)
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
    name = "primes_runtime.control.server"
    try:
        found = importlib.util.find_spec(name)
    except ModuleNotFoundError:
        found = None
    if found is None:
        log.info("node: no control channel installed")
        return
    importlib.import_module(name).start(node)


SWITCH_INTERVAL = 0.0005
"""Seconds a thread may hold the GIL while others wait (Python's default is 0.005)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run a node in the foreground until SIGTERM/SIGINT; exit status 0 after a clean stop."""
    parser = argparse.ArgumentParser(prog="python -m primes_runtime.node")
    parser.add_argument("--root", required=True, type=Path, help="the deployed tree")
    parser.add_argument("--release", default=None, help="version to boot (default: permanent)")
    opts = parser.parse_args(argv)

    signalled = threading.Event()
    holder: list[Node] = []

    def stop_in_background() -> None:
        node = holder[0]
        bound = node.config.shutdown_timeout
        failsafe = threading.Timer(bound + 5.0, os._exit, args=(0,))
        failsafe.daemon = True
        failsafe.start()
        threading.Thread(target=node.shutdown, args=(bound,), name="shutdown", daemon=True).start()

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
    try:
        node = boot(opts.root, opts.release)
    except PrimesError as exc:
        print(f"primenode: cannot boot: {exc}", file=sys.stderr)
        return 1
    holder.append(node)
    if signalled.is_set():
        stop_in_background()
    else:
        try:
            _start_control(node)
        except Exception as exc:
            log.exception("node: the control channel did not start")
            print(f"primenode: control channel did not start: {exc}", file=sys.stderr)
            node.shutdown()
            return 1
        sdnotify.attach(node.release)  # systemd Type=notify: READY=1 now, STOPPING=1 on SIGTERM
    node.wait()
    return 0


if __name__ == "__main__":
    # Run the main() of the imported module, not of this __main__ copy, so that
    # primes_runtime.node.current() (used by the control channel) sees the node.
    from primes_runtime.node import main as _main

    sys.exit(_main())
