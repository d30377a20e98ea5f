"""The application controller: starts apps in dependency order, stops them in reverse,
serves their env (manifest defaults overridden by the node config's [env.<app>]).

One :class:`Applications` per node (``node.applications``); ``app_env`` is the public API
and reads the controller of the node the calling code runs in."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ApplicationError, CallTimeout, NoProcess, StartError
from ..kernel import messaging
from ..kernel.context import app_context, current_node, entered
from ..kernel.pid import Pid
from ..kernel.process import kill
from ..loading.code_server import current
from .manifest import AppSpec

if TYPE_CHECKING:
    from .node import Node

log = logging.getLogger("primes_runtime.application")

__all__ = ["AppInfo", "AppSpec", "Applications", "app_env"]


@dataclass(frozen=True)
class AppInfo:
    """A snapshot of one application: status is 'starting', 'running' or 'failed'
    (its top supervisor exited; `reason` says why)."""

    name: str
    version: str
    status: str
    path: str
    reason: str | None = None


class _App:
    __slots__ = ("env", "path", "reason", "spec", "status", "top", "version")

    def __init__(self, spec: AppSpec, path: Path, env: dict[str, Any]) -> None:
        self.spec = spec
        self.version = spec.version
        self.path = path
        self.env = env
        self.top: Pid | None = None
        self.status = "starting"
        self.reason: str | None = None


_WATCH_KEY = object()  # the key of the controller's watch on each top supervisor


def _function(ref: str, app: str, key: str) -> Any:
    module, _, name = ref.partition(":")
    try:
        return getattr(current(module), name)
    except Exception as exc:
        raise StartError(f"application {app}: {key} {ref!r} cannot be loaded: {exc}") from exc


class Applications:
    """The applications of one node, in start order."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self._lock = threading.RLock()
        self._apps: dict[str, _App] = {}  # in start order
        self._root = Path(".")
        self._overrides: dict[str, dict[str, Any]] = {}

    def configure(self, root: Path, overrides: Mapping[str, Mapping[str, Any]]) -> None:
        """Set the tree root (app paths are relative to it) and the config's env overrides."""
        with self._lock:
            self._root = Path(root)
            self._overrides = {app: dict(env) for app, env in overrides.items()}

    def start_app(self, spec: AppSpec) -> None:
        """Start one application: its needs must run already; its start function returns
        the pid of its top supervisor. Raises StartError if it cannot start."""
        name = spec.name
        with self._lock:
            apps = self._apps
            existing = apps.get(name)
            if existing is not None and existing.status != "failed":
                raise StartError(f"application {name} is already {existing.status}")
            missing = [n for n in spec.needs if n not in apps or apps[n].status != "running"]
            if missing:
                raise StartError(f"application {name} needs {', '.join(missing)}, not running")
            env = {**spec.env, **self._overrides.get(name, {})}
            app = _App(spec, self._root / spec.path, env)
            apps.pop(name, None)
            apps[name] = app
        try:
            start = _function(spec.start, name, "start")
            with entered(self._node), app_context(name):
                top = start()
            if not isinstance(top, Pid):
                raise StartError(f"application {name}: {spec.start} returned {top!r}, not a Pid")
        except Exception as exc:
            with self._lock:
                if self._apps.get(name) is app:
                    del self._apps[name]
            if isinstance(exc, StartError):
                raise
            raise StartError(f"application {name} failed to start: {exc!r}") from exc
        app.top = top

        def on_exit(pid: Pid, reason: object) -> None:
            with self._lock:
                if app.top != pid:
                    return
                app.status = "failed"
                app.reason = str(reason) if isinstance(reason, Exception) else repr(reason)
            log.error(
                "application %s exited: its top supervisor %s ended with %r", name, pid, reason
            )

        proc = self._node.processes.lookup(top)
        with self._lock:
            app.status = "running"
        if proc is None or not proc.watch(_WATCH_KEY, on_exit):
            on_exit(top, "noproc")
        log.info("application %s %s started", name, spec.version)

    def stop_app(self, name: str, timeout: float = 10.0) -> None:
        """Stop an application: its top supervisor (and so its processes) within
        ``timeout``, then its stop function, if any."""
        with self._lock:
            app = self._apps.get(name)
            if app is None:
                raise ApplicationError(f"application {name} is not running")
            top, app.top = app.top, None
        table = self._node.processes
        if top is not None:
            proc = table.lookup(top)
            if proc is not None:
                proc.unwatch(_WATCH_KEY)
                try:
                    messaging.stop_in(table, top, "shutdown", timeout)
                except NoProcess:
                    pass
                except CallTimeout:
                    log.error(
                        "application %s did not stop within %g s; killed its top", name, timeout
                    )
                    kill(proc, "killed")
        if app.spec.stop:
            try:
                with entered(self._node):
                    _function(app.spec.stop, name, "stop")()
            except Exception:
                log.exception("application %s: stop function %s raised", name, app.spec.stop)
        with self._lock:
            if self._apps.get(name) is app:
                del self._apps[name]
        log.info("application %s stopped", name)

    def start_all(self, specs: Iterable[AppSpec]) -> None:
        """Start apps in dependency order (their list order where needs allow)."""
        for spec in self._in_dependency_order(list(specs)):
            self.start_app(spec)

    def _in_dependency_order(self, specs: list[AppSpec]) -> list[AppSpec]:
        names = {s.name for s in specs}
        done: set[str] = set(self._apps)
        ordered: list[AppSpec] = []
        pending = list(specs)
        while pending:
            ready = [s for s in pending if all(n in done or n not in names for n in s.needs)]
            if not ready:
                cycle = ", ".join(s.name for s in pending)
                raise StartError(f"applications {cycle} need each other (a dependency cycle)")
            first = ready[0]
            ordered.append(first)
            done.add(first.name)
            pending.remove(first)
        return ordered

    def stop_all(self, timeout: float) -> None:
        """Stop every application in reverse start order, all within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        for name in reversed(list(self._apps)):
            left = max(0.1, deadline - time.monotonic())
            try:
                self.stop_app(name, timeout=left)
            except Exception:
                log.exception("application %s did not stop cleanly", name)

    def set_app_version(self, name: str, version: str, path: Path, env: Mapping[str, Any]) -> None:
        """After a code switch: the version, code dir and env the running app reports."""
        with self._lock:
            app = self._apps.get(name)
            if app is None:
                raise ApplicationError(f"application {name} is not running")
            app.version, app.path, app.env = version, Path(path), dict(env)

    def running(self) -> list[AppInfo]:
        """Snapshots of the applications, in start order."""
        with self._lock:
            return [
                AppInfo(n, a.version, a.status, str(a.path), a.reason)
                for n, a in self._apps.items()
            ]

    def version_of(self, name: str | None) -> str | None:
        """The running version of an app (None if unknown)."""
        app = self._apps.get(name) if name is not None else None
        return app.version if app is not None else None

    def env(self, app: str, key: str, default: object) -> object:
        """An app's env value (see :func:`app_env`)."""
        with self._lock:
            entry = self._apps.get(app)
            env = entry.env if entry is not None else None
        if env is not None and key in env:
            return env[key]
        if default is not _REQUIRED:
            return default
        if env is None:
            raise ApplicationError(f"application {app!r} is not running; it has no env")
        raise ApplicationError(
            f"application {app!r} has no env key {key!r}: add it to the app's "
            f"[tool.primes.app] env or to node.toml [env.{app}]"
        )


_REQUIRED: Any = object()


def app_env(app: str, key: str, default: object = _REQUIRED) -> object:
    """An app's env value: the node config's [env.<app>] key, else the app's default."""
    return current_node().applications.env(app, key, default)
