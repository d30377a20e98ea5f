"""The one adapter between the collection and a node's bin/<name>: run a command, parse it."""

# Everything this collection learns from a node passes through NodeCli. Today it parses the
# text bin/<name> prints; every place that reads text is marked JSON-SWAP: once the node's CLI
# takes --json (one object on stdout, failures included; exit 0 ok, 1 refused or failed with
# the node unchanged, 2 usage, 3 not running), pass "--json" in _run() and read the fields
# there instead. Nothing outside this file depends on the text.

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

Runner = Callable[[list[str]], tuple[int, str, str]]
"""Runs argv on the host; (exit status, stdout, stderr). AnsibleModule.run_command fits."""

NOT_RUNNING = "the node is not running"

_PAUSE = re.compile(
    r"^\s*paused (?P<pid>\S+)(?: (?P<name>\S+))? \((?P<module>[^)]+)\) (?P<ms>[\d.]+) ms$"
)
_FAILED = re.compile(
    r"^install of (?P<vsn>\S+) failed at (?P<step>\S+:\d+ \([^)]*\)): (?P<reason>.*); "
    r"rolled back, release (?P<old>\S+) is still current$"
)
_REFUSED = re.compile(
    r"^release (?P<vsn>\S+) cannot be installed: (?P<step>\S+:\d+ \([^)]*\)): (?P<reason>.*)$"
)
_PROBLEM = re.compile(r"^\s*rollback problem: (?P<problem>.*)$")


@dataclass(frozen=True)
class Pause:
    """How long one process stopped handling messages during an install."""

    pid: str
    name: str | None
    module: str
    ms: float

    def as_dict(self) -> dict[str, object]:
        return {"pid": self.pid, "name": self.name, "module": self.module, "ms": self.ms}


@dataclass(frozen=True)
class Outcome:
    """What one release command did on the node."""

    command: tuple[str, ...]
    ok: bool
    summary: str
    exit_code: int = 0
    pauses: tuple[Pause, ...] = ()
    failed_step: str | None = None
    reason: str | None = None
    refused: bool = False
    rolled_back: bool = False
    rollback_problems: tuple[str, ...] = ()
    not_running: bool = False
    details: tuple[str, ...] = field(default_factory=tuple)


class NodeError(Exception):
    """bin/<name> could not be run or answered something this adapter cannot read."""


class NodeCli:
    """bin/<name> of one deployed tree."""

    def __init__(self, root: str, name: str, run: Runner) -> None:
        self.root = root.rstrip("/") or "/"
        self.name = name
        self.script = f"{self.root}/bin/{name}"
        self._run_argv = run

    def _run(self, *args: str) -> tuple[int, str, str]:
        # JSON-SWAP: insert "--json" after the command for versions/status/check/unpack/
        # install/upgrade/downgrade and json.loads(stdout).
        return self._run_argv([self.script, *args])

    def versions(self) -> tuple[tuple[str, str], ...]:
        """Every release the tree knows and its status, in the node's order."""
        code, out, err = self._run("versions")
        if code != 0:
            raise NodeError(_line(err) or f"{self.script} versions exited {code}")
        # JSON-SWAP: the releases list of the JSON object.
        rows = []
        for line in out.splitlines():
            cells = line.split()
            if len(cells) != 2:
                raise NodeError(
                    f"{self.script} versions printed {line!r}; expected '<vsn> <status>'"
                )
            rows.append((cells[0], cells[1]))
        return tuple(rows)

    def ping(self) -> bool:
        """True if the node answers."""
        code, out, _ = self._run("ping")
        return code == 0 and out.strip() == "pong"

    def unpack(self, package: str) -> Outcome:
        return self._release("unpack", package)

    def install(self, version: str) -> Outcome:
        return self._release("install", version)

    def permanent(self, version: str) -> Outcome:
        return self._release("permanent", version)

    def upgrade(self, package_or_version: str) -> Outcome:
        return self._release("upgrade", package_or_version)

    def downgrade(self, version: str) -> Outcome:
        return self._release("downgrade", version)

    def check(self, version: str) -> Outcome:
        """The node's dry run of everything before the point of no return (changes nothing)."""
        # JSON-SWAP: `bin/<name> check --json VSN|PKG` (which also takes a package that is
        # not unpacked yet); until it lands, the release handler's check runs through eval.
        code = (
            "import primes_runtime.node as n\n"
            "from primes_runtime.release import handler\n"
            f"print(handler.check(n.current(), {version!r}).summary())"
        )
        return self._outcome(("check", version), *self._run("eval", code))

    def _release(self, command: str, target: str) -> Outcome:
        return self._outcome((command, target), *self._run(command, target))

    def _outcome(self, command: tuple[str, ...], code: int, out: str, err: str) -> Outcome:
        # JSON-SWAP: ok/step/reason/rolled_back/pauses come as fields of the JSON object.
        lines = out.splitlines()
        pauses = tuple(p for p in (_pause(line) for line in lines) if p is not None)
        problems = tuple(m.group("problem") for m in (_PROBLEM.match(x) for x in lines) if m)
        if code == 0:
            return Outcome(
                command, True, lines[0].strip() if lines else "", 0, pauses, details=tuple(lines)
            )
        message = _line(err) or f"{self.script} {command[0]} exited {code}"
        prefix = f"{self.name}: "
        if message.startswith(prefix):
            message = message[len(prefix) :]
        message = _without_error_type(message)
        failed = _FAILED.match(message)
        step = failed or _REFUSED.match(message)
        return Outcome(
            command,
            False,
            message,
            code,
            pauses,
            failed_step=step.group("step") if step else None,
            reason=step.group("reason") if step else message,
            refused=failed is None,
            rolled_back=failed is not None and not problems,
            rollback_problems=problems,
            not_running=message.startswith(NOT_RUNNING),
            details=tuple(lines),
        )


def _pause(line: str) -> Pause | None:
    match = _PAUSE.match(line)
    if match is None:
        return None
    return Pause(
        match.group("pid"), match.group("name"), match.group("module"), float(match.group("ms"))
    )


def _line(text: str) -> str:
    """The last non-empty line of `text` (where bin/<name> says what went wrong)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _without_error_type(message: str) -> str:
    """eval reports an exception as `Type: message`; the release handler's is the message."""
    head, sep, rest = message.partition(": ")
    if sep and head.endswith("Error") and head.isidentifier():
        return rest
    return message
