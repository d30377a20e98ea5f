"""The node's cookie: from node.toml, else generated once into run/cookie (0600)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

from primes_runtime.control.errors import ControlError
from primes_runtime.control.tree import Tree

ENV_VAR = "PRIMES_COOKIE"


def configured(tree: Tree, version: str) -> str | None:
    """The cookie releases/<version>/node.toml sets in [node], if any."""
    value = tree.node_config(version).cookie
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ControlError(f"releases/{version}/node.toml: [node] cookie must be a non-empty text")
    return value


def node_cookie(tree: Tree, version: str) -> str:
    """The cookie a node booted from `version` uses, generating run/cookie on first start."""
    fixed = configured(tree, version)
    if fixed is not None:
        return fixed
    tree.make_run_dir()
    try:
        return _read(tree)
    except FileNotFoundError:
        pass
    import secrets  # only a first start makes one: not on every client's path

    fresh = secrets.token_urlsafe(32)
    try:
        fd = os.open(tree.cookie_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its cookie
        return _read(tree)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(fresh + "\n")
    return fresh


def client_cookie(
    tree: Tree, explicit: str | None, warn: Callable[[str], None] | None = None
) -> str:
    """The cookie a client presents: --cookie, else PRIMES_COOKIE, else the node's own.

    `warn` gets one line when the client reads a run/cookie that others may read."""
    if explicit:
        return explicit
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return from_env
    version, _ = tree.start_data()
    fixed = configured(tree, version)
    if fixed is not None:
        return fixed
    try:
        value = _read(tree)
    except FileNotFoundError:
        raise ControlError(
            f"no cookie: {tree.cookie_file} does not exist (the node writes it at its first "
            f"start); pass one with --cookie or {ENV_VAR}"
        ) from None
    except PermissionError:
        raise ControlError(
            f"cannot read {tree.cookie_file}: run as the node's owner, or pass --cookie"
        ) from None
    exposed = exposure(tree)
    if exposed is not None and warn is not None:
        warn(exposed)
    return value


def exposure(tree: Tree) -> str | None:
    """A warning when run/cookie is open to group or others, else None."""
    try:
        mode = stat.S_IMODE(os.stat(tree.cookie_file).st_mode)
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return (
        f"warning: {tree.cookie_file} is open to group or others (mode {mode:04o}); whoever "
        f"reads it can command the node: chmod 600 {tree.cookie_file}"
    )


def _read(tree: Tree) -> str:
    value = tree.cookie_file.read_text(encoding="utf-8").strip()
    if not value:
        raise ControlError(f"{tree.cookie_file} is empty; delete it and restart the node")
    return value
