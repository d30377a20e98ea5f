"""`ping`, `pid` and `upgrade` without the full CLI's start: a lean path for the commands health
checks run often and for the upgrade, whose wall time is the node's down to its imports.

It imports only the socket, the handshake, the frames and the format layer's lean readers
(formats.start_data, formats.node_toml_lean; no argparse, pathlib, dataclasses or TOML parser)
and handles only the plain forms the start script passes: `--root R --name N ping` (or `pid`),
`--root R --name N upgrade [--json] [--probation SECONDS] PKG|VSN`. Anything else, and any
failure before a request is sent, returns None: the full CLI then runs the command from the
start and prints its one error line, so the two paths never disagree on an outcome. Once
`upgrade` is sent, the full CLI's own code prints its answer or its error (cli/remote.py, from
control/operations.py's table); it is imported while the node works.
"""

from __future__ import annotations

import os
import socket

from primes_runtime.control import auth
from primes_runtime.control.sealed import Sealed
from primes_runtime.formats import node_toml_lean, start_data
from primes_runtime.release.argument import is_package_path

COMMANDS = ("ping", "pid")
RELEASE = "upgrade"
"""The release command taken here (control/operations.py names its target and extras)."""
COOKIE_VAR = "PRIMES_COOKIE"
"""primes_runtime.control.cookie.ENV_VAR (not imported: that module loads the TOML layer)."""


def run(argv: list[str]) -> int | None:
    """The command's exit status, or None when the full CLI must run it."""
    if len(argv) > 5 and argv[0] == "--root" and argv[2] == "--name" and argv[4] == RELEASE:
        return _release(argv)
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


def _release(argv: list[str]) -> int | None:
    """`upgrade` sent on the lean path; None (nothing sent) where the full CLI must run it."""
    from primes_runtime.control.operations import BY_NAME, PROBATION_LIMIT  # loads dataclasses

    root, name, op, rest = argv[1], argv[3], argv[4], argv[5:]
    options = [word for word in rest if word.startswith("-")]
    as_json = "--json" in options
    if options not in (
        [],
        ["--json"],
        ["--probation"],
        ["--probation", "--json"],
        ["--json", "--probation"],
    ):
        return None
    probation: float | None = None
    if "--probation" in options:
        at = rest.index("--probation")
        if at + 1 >= len(rest):
            return None
        try:
            probation = float(rest.pop(at + 1))
        except ValueError:
            return None
        if not 0 <= probation < PROBATION_LIMIT:
            return None
    given = [word for word in rest if not word.startswith("-")]
    if len(given) != 1 or not given[0]:
        return None
    target = given[0]
    if is_package_path(target):
        if not os.path.isfile(target):
            return None
        target = os.path.realpath(target)
    args: dict[str, object] = {BY_NAME[op].target: target}
    if probation is not None:
        args["probation"] = probation
    try:
        cookie = _cookie(root)
        if cookie is None:
            return None
        sock, sealed = _session(os.path.join(root, "run", "node.sock"), cookie)
    except Exception:  # nothing was sent: the full CLI runs the command and reports
        return None
    with sock:
        sock.settimeout(None)
        failed: Exception | None = None
        try:
            sealed.send({"op": op, "args": args})
        except Exception as exc:  # reported below, as the full CLI reports it
            failed = exc
        return _finish(root, name, op, given[0], as_json, probation, args, sealed, failed)


def _session(path: str, cookie: str) -> tuple[socket.socket, Sealed]:
    """A connected, authenticated socket to the node (closed again if that fails)."""
    if len(os.fsencode(path)) > 100:
        raise OSError("the full CLI knows how to reach a socket with a long path")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(10.0)
        sock.connect(path)
        return sock, Sealed(sock, auth.client_handshake(sock, cookie), node=False)
    except BaseException:
        sock.close()
        raise


def _finish(
    root: str,
    name: str,
    op: str,
    typed: str,
    as_json: bool,
    probation: float | None,
    args: dict[str, object],
    sealed: Sealed,
    failed: Exception | None,
) -> int:
    """The sent request's answer, printed by the full CLI's code (imported while the node
    works), or its error reported as the full CLI reports one."""
    from pathlib import Path

    from primes_runtime.cli import remote
    from primes_runtime.cli.invocation import Invocation
    from primes_runtime.control.client import answer, lost
    from primes_runtime.control.errors import ControlError
    from primes_runtime.control.operations import BY_NAME
    from primes_runtime.control.tree import Tree
    from primes_runtime.errors import PrimesError

    inv = Invocation(Tree(Path(root).resolve()), name, None, op, (typed,), as_json, probation)
    try:
        if isinstance(failed, OSError):
            raise lost(op, failed)
        if failed is not None:
            raise failed
        try:
            reply = sealed.recv()
        except OSError as exc:
            raise lost(op, exc) from None
        value = answer(op, reply).value
        return remote.show_release(inv, BY_NAME[op], typed, args, value)
    except (ControlError, PrimesError, OSError) as exc:
        from primes_runtime.cli import app

        return app.failed(name, op, as_json, exc)
