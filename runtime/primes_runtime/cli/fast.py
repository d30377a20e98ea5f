"""The commands a node answers, without the full CLI's start: a lean path for the commands
health checks, scripts and tests run often, and for the upgrade, whose wall time is the
node's down to its imports.

It imports only the socket, the handshake, the frames, the printers (cli/output.py) and the
format layer's lean readers (formats.start_data, formats.node_toml_lean; no argparse,
pathlib, dataclasses or TOML parser) and handles only the plain forms the start script
passes: `--root R --name N` then `ping`, `pid`, `versions [--json]`, `check-code [--json]`,
`eval CODE...`, `rpc MODULE FUNCTION [ARG...]` (no word starting with `-`), or
`upgrade [--json] [--probation SECONDS] PKG|VSN`. Anything else, and any failure before a
request is sent, returns None: the full CLI then runs the command from the start and prints
its one error line, so the two paths never disagree on an outcome. (One difference is left:
the lean path reads node.toml only for a cookie key, so a node.toml that is no longer valid
TOML, edited after the node booted with it, does not stop it; the full CLI refuses it.)
Once a request is sent, a success is printed by the printers the full CLI uses, and a
failure by the full CLI's own error printer (imported then: cli/app.py); the upgrade's answer
is printed by the full CLI's code (cli/remote.py, from control/operations.py's table),
imported while the node works.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

from primes_runtime.control import auth
from primes_runtime.control.errors import ControlError
from primes_runtime.control.sealed import Sealed
from primes_runtime.errors import PrimesError
from primes_runtime.formats import node_toml_lean, start_data
from primes_runtime.release.argument import is_package_path

RELEASE = "upgrade"
"""The release command taken here (control/operations.py names its target and extras)."""
COOKIE_VAR = "PRIMES_COOKIE"
"""primes_runtime.control.cookie.ENV_VAR (not imported: that module loads the TOML layer)."""
CONNECT_TIMEOUT = 10.0
"""Seconds to connect and prove the cookie (then the full CLI's own limit for the reply)."""


class Request:
    """A command line's request: the operation, its arguments, how long the reply may take
    (None: wait for it), whether --json was given. (A plain class: this module loads neither
    dataclasses nor typing.)"""

    __slots__ = ("args", "as_json", "op", "timeout")

    def __init__(
        self, op: str, args: dict[str, object], timeout: float | None, as_json: bool
    ) -> None:
        self.op = op
        self.args = args
        self.timeout = timeout
        self.as_json = as_json


def run(argv: list[str]) -> int | None:
    """The command's exit status, or None when the full CLI must run it."""
    if len(argv) < 5 or argv[0] != "--root" or argv[2] != "--name":
        return None
    if not all(word and not word.startswith("-") for word in (argv[1], argv[3])):
        return None  # the full parser's business: an empty name, a value it reads as an option
    if argv[4] == RELEASE and len(argv) > 5:
        return _release(argv)
    request = plain_request(argv[4], argv[5:])
    if request is None:
        return None
    root, name = argv[1], argv[3]
    try:
        cookie = _cookie(root)
        if cookie is None:
            return None
        sock, sealed = _session(os.path.join(root, "run", "node.sock"), cookie)
    except Exception:  # nothing was sent: the full CLI runs the command and reports
        return None
    with sock:
        sock.settimeout(request.timeout)
        failed: Exception | None = None
        try:
            sealed.send({"op": request.op, "args": request.args})
        except Exception as exc:  # reported below, as the full CLI reports it
            failed = exc
        return _reply(
            name,
            request.op,
            request.as_json,
            sealed,
            failed,
            lambda value, out: _printed(root, request, value, out),
        )


def plain_request(command: str, words: list[str]) -> Request | None:
    """The request of a command line in a form whose meaning the full parser agrees on;
    None for anything else (an option, a word the parser could take for one, a bad ARG)."""
    if command in ("ping", "pid"):
        return None if words else Request(command, {}, 10.0 if command == "ping" else None, False)
    if command in ("versions", "check-code"):
        if words not in ([], ["--json"]):
            return None
        return Request(command, {}, 30.0 if command == "versions" else None, bool(words))
    if any(word.startswith("-") for word in words):
        return None
    if command == "eval" and words:
        return Request("eval", {"code": " ".join(words)}, None, False)
    if command == "rpc" and len(words) >= 2:
        from primes_runtime.formats import rpc_args

        try:
            rpc_args.parse(words[2:])
        except ValueError:
            return None  # the full CLI says why, as a usage error
        args: dict[str, object] = {"module": words[0], "function": words[1], "args": words[2:]}
        return Request("rpc", args, None, False)
    return None


def _printed(root: str, request: Request, value: object, out: str) -> int:
    """A successful reply printed as the full CLI prints it (cli/remote.py's commands)."""
    op = request.op
    if op == "ping":
        print(value)
        return 0
    from primes_runtime.cli import output

    if op == "versions":
        packages = ""
        if request.as_json:
            from pathlib import Path

            from primes_runtime.release import signature

            packages = signature.mode(Path(root).resolve())
        return output.versions(op, request.as_json, output.version_pairs(value), True, packages)
    if op == "check-code":
        return output.check_code(op, request.as_json, value)
    return output.shown(out, value)


def _reply(
    name: str,
    op: str,
    as_json: bool,
    sealed: Sealed,
    failed: Exception | None,
    show: Callable[[object, str], int],
) -> int:
    """The reply to the request just sent (`failed`: what sending it raised), printed by
    `show(value, out)`; an error, the node's or the connection's, reported by the full CLI's
    error printer (its line, exit code and JSON). The control client, which loads the TOML
    layer, is imported only for an error."""
    try:
        if isinstance(failed, OSError):
            raise _lost(op, failed)
        if failed is not None:
            raise failed
        try:
            reply = sealed.recv()
        except OSError as exc:
            raise _lost(op, exc) from None
        if reply is None or reply.get("ok") is not True:
            from primes_runtime.control.client import answer

            answer(op, reply)  # raises the node's error, or the closed connection's
            raise AssertionError("answer() took a failed reply")
        out = reply.get("out", "")
        return show(reply.get("value"), out if isinstance(out, str) else "")
    except (ControlError, PrimesError, OSError) as exc:  # OSError here: stdout's (`| head`)
        from primes_runtime.cli import app

        return app.failed(name, op, as_json, exc)


def _lost(op: str, exc: OSError) -> ControlError:
    """The full CLI's error for a connection that failed during request `op`."""
    from primes_runtime.control.client import lost

    return lost(op, exc)


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


def _release(argv: list[str]) -> int | None:
    """`upgrade` sent on the lean path; None (nothing sent) where the full CLI must run it."""
    from primes_runtime.control.operations import BY_NAME, PAUSE_BATCHES, PROBATION_LIMIT
    from primes_runtime.release.cores import keep_to_last_core

    keep_to_last_core()  # (the full CLI, if it takes over, runs there too)

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
    args: dict[str, object] = {BY_NAME[op].target: target, PAUSE_BATCHES: True}
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
        sock.settimeout(CONNECT_TIMEOUT)
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
    from primes_runtime.control.operations import BY_NAME
    from primes_runtime.control.tree import Tree

    inv = Invocation(Tree(Path(root).resolve()), name, None, op, (typed,), as_json, probation)
    return _reply(
        name,
        op,
        as_json,
        sealed,
        failed,
        lambda value, out: remote.show_release(inv, BY_NAME[op], typed, args, value),
    )
