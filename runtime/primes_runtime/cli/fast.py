"""`ping` and `pid` without the full CLI: a lean path for the commands health checks run often.

It imports only the socket, the handshake, the frames and the format layer's lean readers
(formats.start_data, formats.node_toml_lean; no argparse, pathlib, dataclasses or TOML parser)
and handles only the plain form the start script passes: `--root R --name N ping` (or `pid`).
Anything else, and any failure, returns None: the full CLI then runs the command from the
start and prints its one error line, so the two paths never disagree on an outcome.
"""

from __future__ import annotations

import os
import socket

from primes_runtime.control import auth
from primes_runtime.control.sealed import Sealed
from primes_runtime.formats import node_toml_lean, start_data

COMMANDS = ("ping", "pid")
COOKIE_VAR = "PRIMES_COOKIE"
"""primes_runtime.control.cookie.ENV_VAR (not imported: that module loads the TOML layer)."""


def run(argv: list[str]) -> int | None:
    """The command's exit status, or None when the full CLI must run it."""
    if len(argv) != 5 or argv[0] != "--root" or argv[2] != "--name" or argv[4] not in COMMANDS:
        return None
    root = argv[1]
    try:
        cookie = _cookie(root)
        if cookie is None:
            return None
        value = _ask(os.path.join(root, "run", "node.sock"), cookie, argv[4])
    except Exception:  # any failure: the full CLI runs the command and reports it
        return None
    if value is None:
        return None
    os.write(1, f"{value}\n".encode())
    return 0


def _cookie(root: str) -> str | None:
    """PRIMES_COOKIE, else run/cookie when node.toml certainly sets no cookie; else None."""
    from_env = os.environ.get(COOKIE_VAR)
    if from_env:
        return from_env
    version = start_data.parse(_read(root, start_data.PATH)).version
    try:
        config = _read(root, node_toml_lean.path_for(version))
    except FileNotFoundError:
        config = ""
    if node_toml_lean.may_set_cookie(config):
        return None  # the full CLI reads node.toml with the TOML parser
    with open(os.path.join(root, "run", "cookie"), encoding="utf-8") as f:
        if os.fstat(f.fileno()).st_mode & 0o077:
            return None  # open to others: the full CLI warns
        value = f.read().strip()
    return value or None


def _read(root: str, path: str) -> str:
    """The text of `path` (a tree-relative path the format layer names) under `root`."""
    with open(os.path.join(root, path), encoding="utf-8") as f:
        return f.read()


def _ask(path: str, cookie: str, op: str) -> object:
    """One request on a fresh authenticated connection; the value, None unless it succeeded."""
    if len(os.fsencode(path)) > 100:
        return None  # the full CLI knows how to reach a socket with a long path
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10.0)
        sock.connect(path)
        sealed = Sealed(sock, auth.client_handshake(sock, cookie), node=False)
        sealed.send({"op": op, "args": {}})
        reply = sealed.recv()
    if reply is None or reply.get("ok") is not True or reply.get("out"):
        return None
    value = reply.get("value")
    if op == "pid" and not isinstance(value, int):
        return None
    return value
