"""The node object: one node's process table, scheduler, timers, application controller,
event loop and parsed config (boot.py makes the node of a deployed tree)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel import context
from ..kernel.registry import ProcessTable
from ..kernel.scheduler import Scheduler, default_min_workers
from ..kernel.timers import Timers
from . import application
from . import manifest as release_manifest

# config (tomllib, difflib) and the event loop (asyncio) load on first use: a Node() in a
# test or benchmark costs no more memory than the runtime it runs.
if TYPE_CHECKING:
    from ..behaviours.aioloop import EventLoop
    from ..handover.listeners import Listener
    from ..loading.warm import WarmChild
    from .config import NodeConfig

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
        self.warm: WarmChild | None = None  # forks the unpack workers (loading/warm.py)
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
                    from ..behaviours.aioloop import EventLoop

                    aio = self._aio = EventLoop(self, self.config.aio.block_threshold)
        return aio

    def report_old_code(self, owner: object, lines: Callable[[bool], list[str]]) -> None:
        """Have `status` and upgrade reports list what `owner` still runs on old code: `lines`
        returns one line per item (given True in an upgrade's report, after which the items
        may be handed over)."""
        self.lingering[owner] = lines

    def forget_old_code(self, owner: object) -> None:
        """Stop listing `owner`'s old code (it stopped, or nothing of it is old any more)."""
        self.lingering.pop(owner, None)

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
        warm, self.warm = self.warm, None
        if warm is not None:
            warm.close()
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
