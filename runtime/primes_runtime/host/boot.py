"""Booting a release of a deployed tree into a node: its code path, manifest, node.toml and
log, then its apps in manifest order."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
import threading
from pathlib import Path

from ..errors import ConfigError
from ..formats import FormatError, start_data
from . import manifest as release_manifest
from .node import Node

# sysconfig, logsetup (logging.handlers) and config (tomllib, difflib) load when a node
# boots: a Node() in an app's test or a benchmark, which imports primes_runtime.node, costs
# no more than the runtime it runs.

log = logging.getLogger("primes_runtime.node")


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
    import sysconfig  # on use: see the note at the top

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
    from . import config as node_config
    from . import logsetup

    root = Path(root).resolve()
    version = version if version is not None else permanent_release(root)
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


def start_control(node: Node) -> None:
    """Start the control channel (service/server.py) if this runtime has one installed."""
    name = "primes_runtime.service.server"
    try:
        found = importlib.util.find_spec(name)
    except ModuleNotFoundError:
        found = None
    if found is None:
        log.info("node: no control channel installed")
        return
    importlib.import_module(name).start(node)
