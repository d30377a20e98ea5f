"""What the node does for each control request: one function per operation."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from primes_runtime.control.errors import ControlError
from primes_runtime.control.frames import Message
from primes_runtime.control.operations import (
    PAUSE_BATCHES,
    PROBATION_LIMIT,
    RELEASE_OPERATIONS,
    Operation,
)
from primes_runtime.control.tree import Tree
from primes_runtime.host.node import Node
from primes_runtime.kernel import threadstart
from primes_runtime.service import evaluate

if TYPE_CHECKING:
    from primes_runtime.release.reports import InstallReport
    from primes_runtime.swap.stale import Stale

# release.signature and release.reports load with the first request that needs them: the
# node's boot (its control channel) does not wait for them.

log = logging.getLogger("primes_runtime.control")


NodeLike = Node  # the control channel serves a node (its config is node.toml, parsed)


class BadRequest(ControlError):
    """A request the node cannot act on (unknown op, missing or wrong argument)."""


@dataclass(frozen=True)
class Reply:
    """An operation's answer; `then` runs after the reply has been sent."""

    message: Message
    then: Callable[[], None] | None = None


@dataclass
class Session:
    """One authenticated connection's context."""

    node: NodeLike
    started: float
    console: evaluate.ConsoleSession = field(default_factory=evaluate.ConsoleSession)

    @property
    def tree(self) -> Tree:
        return Tree(Path(self.node.root))

    def handle(self, request: Message) -> Reply:
        """Run one request; every failure becomes an error reply, never an exception."""
        op = request.get("op")
        args = request.get("args", {})
        try:
            if not isinstance(op, str) or op not in OPERATIONS:
                raise BadRequest(f"unknown operation {op!r}")
            if not isinstance(args, dict):
                raise BadRequest("'args' must be an object")
            with self.node.entered():
                return OPERATIONS[op](self, args)
        except ControlError as exc:
            return failure(str(exc))
        except Exception as exc:
            log.exception("control operation %r failed", op)
            return failure(f"{evaluate.one_line(exc)} (internal error; see log/node.log)")


def success(value: object = None, out: str = "") -> Reply:
    return Reply({"ok": True, "value": value, "out": out})


def failure(error: str, out: str = "") -> Reply:
    return Reply({"ok": False, "error": error, "out": out})


def from_outcome(outcome: evaluate.Outcome) -> Reply:
    if outcome.error is not None:
        return failure(outcome.error, outcome.out)
    return success(outcome.value, outcome.out)


def text_arg(args: Message, key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"argument {key!r} must be a non-empty string")
    return value


def _ping(session: Session, args: Message) -> Reply:
    return success("pong")


def _pid(session: Session, args: Message) -> Reply:
    return success(os.getpid())


def _stop(session: Session, args: Message) -> Reply:
    node = session.node
    seconds = node.config.shutdown_timeout
    log.info("stop requested over the control channel")

    def shut_down() -> None:
        threadstart.start_or_run(node.shutdown, (seconds,), name="primes-stop", daemon=False)

    return Reply({"ok": True, "value": os.getpid(), "out": ""}, then=shut_down)


def _status(session: Session, args: Message) -> Reply:
    import primes_runtime
    from primes_runtime.release import signature
    from primes_runtime.release.changing import lingering_code_changes

    node = session.node
    name = node.config.name
    infos = primes_runtime.applications()
    apps = [[a.name, a.version, a.status] for a in infos]
    failed = [[a.name, a.reason] for a in infos if a.reason]
    procs = [
        [
            str(p.pid),
            p.name or "",
            p.behaviour,
            p.module,
            f"{p.app or '-'} {p.app_vsn or ''}".strip(),
            p.mailbox_len,
            p.status,
        ]
        for p in primes_runtime.processes()
    ]
    return success(
        {
            "name": str(name),
            "pid": os.getpid(),
            "release": node.release,
            "runtime": _runtime(node),
            "uptime": round(time.monotonic() - session.started, 1),
            "apps": apps,
            "failed_apps": failed,
            "processes": procs,
            "packages": signature.mode(Path(node.root)),
            "code_change_workers": lingering_code_changes(),
            "old_code": node.lingering_lines(),
            "stale_code": [s.to_data() for s in _stale(node, settled=False)],
        }
    )


def _runtime(node: Node) -> str:
    """What this process runs on: the dir primes_runtime came from (under the root if it is
    there) and the interpreter's version; a hand-over changes them, an install never."""
    import platform

    import primes_runtime

    here = Path(primes_runtime.__file__).resolve().parent.parent
    with contextlib.suppress(ValueError):
        here = here.relative_to(Path(node.root).resolve())
    return f"{here}, Python {platform.python_version()}"


def _stale(node: Node, settled: bool) -> list[Stale]:
    """What in the node still runs code from a lib dir its current release does not use;
    when ``settled``, after any release operation under way (check-code waits out a swap,
    its probation and the collector's settle; status answers at once, as things are)."""
    from primes_runtime.release import target
    from primes_runtime.swap import stale

    with node.release_lock if settled else contextlib.nullcontext():
        root = Path(node.root)
        current = target.load(root, node.release).paths()
        dirs = stale.successors(root, stale.old_dirs(root, current), current)
        return stale.find(root, dirs, stale.process_owners(node.processes))


def _check_code(session: Session, args: Message) -> Reply:
    node = session.node
    stale = _stale(node, settled=True)
    return success({"release": node.release, "stale": [s.to_data() for s in stale]})


def _eval(session: Session, args: Message) -> Reply:
    return from_outcome(evaluate.run_eval(text_arg(args, "code")))


def _rpc(session: Session, args: Message) -> Reply:
    sources = args.get("args", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise BadRequest("'args' must be a list of strings")
    module, function = text_arg(args, "module"), text_arg(args, "function")
    return from_outcome(evaluate.run_rpc(module, function, [str(s) for s in sources]))


def _console(session: Session, args: Message) -> Reply:
    source = args.get("source")
    if not isinstance(source, str):
        raise BadRequest("argument 'source' must be a string")
    return from_outcome(session.console.push(source))


def _versions(session: Session, args: Message) -> Reply:
    from primes_runtime.release import handler

    return success([[r.version, r.status] for r in handler.which_releases(session.node)])


def _with_old_code(node: Node, report: InstallReport, args: Message) -> dict[str, object]:
    """The report's data, listing what still runs old code now (node.lingering)."""
    lines = tuple(node.lingering_lines(handover=True))
    return dataclasses.replace(report, old_code=lines).to_data(_batched(args))


def _batched(args: Message) -> bool:
    """Whether the client asked for the report's pauses in batches (PAUSE_BATCHES)."""
    return args.get(PAUSE_BATCHES) is True


def _probation(args: Message) -> float | None:
    """The optional `probation` argument: seconds, 0 or more (None: the node.toml setting)."""
    value = args.get("probation")
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value < PROBATION_LIMIT
    ):
        raise BadRequest("argument 'probation' must be a number of seconds, 0 or more")
    return float(value)


Implementation = Callable[[Node, str, Message], Reply]
"""A release operation's work: (node, target, args) -> its reply; raises ReleaseError."""


def _check(node: Node, target: str, args: Message) -> Reply:
    from primes_runtime.release import handler

    keep = args.get("keep", True)
    if not isinstance(keep, bool):
        raise BadRequest("argument 'keep' must be true or false")
    checked, unpacked, why, way = handler.check_target(node, target, keep)
    kind = _upgrade_kind(node, checked.to_version, why, way)
    return success({**checked.to_data(), "unpacked": unpacked, **kind})


def _unpack(node: Node, target: str, args: Message) -> Reply:
    from primes_runtime.release import handler

    return success({"version": handler.unpack(node, Path(target))})


def _install(node: Node, target: str, args: Message) -> Reply:
    from primes_runtime.release import handler

    return _changing(node, lambda: handler.install(node, target, _probation(args)), args)


def _permanent(node: Node, target: str, args: Message) -> Reply:
    from primes_runtime.release import handler

    handler.make_permanent(node, target)
    return success({"version": target, "status": "permanent"})


def _upgrade(node: Node, target: str, args: Message) -> Reply:
    from primes_runtime.release import handler

    return _changing(node, lambda: handler.upgrade(node, target, _probation(args)), args)


def _downgrade(node: Node, target: str, args: Message) -> Reply:
    from primes_runtime.release import handler

    return _changing(node, lambda: handler.downgrade(node, target), args)


def _changing(node: Node, change: Callable[[], InstallReport], args: Message) -> Reply:
    """An operation that changes the current release, under the release lock: the node
    hands over instead where the new release's runtime or interpreter differs."""
    from primes_runtime.release import handler

    with node.release_lock:
        try:
            report = change()
        except handler.HandOverNeeded as needed:
            return _hand_over(node, needed)
    return success(_with_old_code(node, report, args))


def _uninstall(node: Node, target: str, args: Message) -> Reply:
    from primes_runtime.release import handler

    handler.uninstall(node, target)
    return success({"version": target, "status": "uninstalled"})


IMPLEMENTATIONS: dict[str, Implementation] = {
    "check": _check,
    "unpack": _unpack,
    "install": _install,
    "permanent": _permanent,
    "upgrade": _upgrade,
    "downgrade": _downgrade,
    "uninstall": _uninstall,
}
"""Each of control.operations' release operations' own function, by name; nothing else acts
(OPERATIONS below looks each one up: a missing one stops this module from loading)."""


def _release_op(operation: Operation, run: Implementation) -> Callable[[Session, Message], Reply]:
    """`run` as a control operation; its value (and a failure's "report") is plain data."""
    name = operation.name

    def op(session: Session, args: Message) -> Reply:
        from primes_runtime.release.errors import ReleaseError

        target = text_arg(args, operation.target)
        log.info("control: %s %s", name, target)
        try:
            return run(session.node, target, args)
        except ReleaseError as exc:
            report = getattr(exc, "report", None)  # InstallFailed: where, why, rolled back
            details = report.summary().splitlines()[1:] if report is not None else []
            message = " ".join(str(exc).split())
            log.warning("control: %s %s failed: %s", name, target, "\n".join([message, *details]))
            reply = failure(message)
            if report is not None:
                reply.message["report"] = report.to_data(_batched(args))
            return reply

    return op


def _hand_over(node: Node, needed: Any) -> Reply:
    """Run the hand-over an upgrade, install or downgrade found necessary (the release lock
    held); on success this node ends after the reply."""
    from primes_runtime.handover import leader
    from primes_runtime.release import handler
    from primes_runtime.release.errors import ReleaseError

    log.info("control: %s to %s is a hand-over: %s", needed.command, needed.version, needed.why)
    try:
        report, finish = leader.hand_over(
            node, needed.version, needed.why, permanent=needed.permanent
        )
    except ReleaseError:
        with contextlib.suppress(ReleaseError, OSError):
            handler.forget_unpacked(node, needed.version, needed.added)
        raise
    return Reply({"ok": True, "value": report.to_data(), "out": ""}, then=finish)


def _upgrade_kind(node: Node, version: str, why: str | None, way: str) -> dict[str, object]:
    """Whether going to `version` is hot or a hand-over (`why`), what would move, and the
    command that goes there (`way` "up": upgrade, "down": downgrade; install either way)."""
    from primes_runtime.handover import leader, states
    from primes_runtime.release.errors import ReleaseError

    command = "downgrade" if way == "down" else "upgrade"
    if version == node.release:
        return {"upgrade": "none", "why": f"release {version} runs already"}
    if why is None:
        return {
            "upgrade": "hot",
            "why": "the runtime and the interpreter stay the same",
            "way": command,
        }
    try:
        count = leader.check(node)
    except states.Unportable as exc:
        raise ReleaseError(
            f"{'an' if command == 'upgrade' else 'a'} {command} to {version} is a hand-over "
            f"({why}), refused: {exc}"
        ) from None
    moving = ", ".join(node.listeners) or "none"
    return {
        "upgrade": "hand-over", "why": why, "states": count, "sockets": moving,
        "way": command,
    }  # fmt: skip


OPERATIONS: dict[str, Callable[[Session, Message], Reply]] = {
    "ping": _ping,
    "pid": _pid,
    "stop": _stop,
    "status": _status,
    "eval": _eval,
    "rpc": _rpc,
    "console": _console,
    "versions": _versions,
    "check-code": _check_code,
    **{op.name: _release_op(op, IMPLEMENTATIONS[op.name]) for op in RELEASE_OPERATIONS},
}
