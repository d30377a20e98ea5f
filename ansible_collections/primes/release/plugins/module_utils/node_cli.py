"""The one adapter between the collection and a node's bin/<name>: run a command, read its JSON."""

# Everything this collection learns from a node passes through NodeCli. It reads the one JSON
# object `--json` prints on stdout (success or failure) and the exit code (docs/operations.md:
# 0 ok, 1 refused or failed with the node unchanged, 2 usage, 3 not running, 4 rollback
# problems). It never parses text: `ping` and `permanent` have no --json, so for them the
# exit code is the answer and the node's one stderr line is only carried into the message.

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field

Runner = Callable[[list[str]], tuple[int, str, str]]
"""Runs argv on the host; (exit status, stdout, stderr). AnsibleModule.run_command fits."""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_RUNNING = 3
EXIT_ROLLBACK_PROBLEMS = 4

HANDOVER_KEYS = (
    "from_version", "to_version", "why", "old_pid", "new_pid", "sockets", "states",
    "seconds", "frozen_ms", "permanent",
)  # fmt: skip
"""What a hand-over's report (`upgrade`, `install` or `downgrade --json` with `"handover":
true`) carries."""


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
class FailedStep:
    """The .relup instruction an install failed at (the report's `failed` object)."""

    script: str
    line: int
    instruction: str
    reason: str

    def __str__(self) -> str:
        return f"{self.script}:{self.line} ({self.instruction})"


@dataclass(frozen=True)
class Outcome:
    """What one release command did on the node, from its JSON object and exit code."""

    command: tuple[str, ...]
    ok: bool
    summary: str
    """On failure the node's one error line; on success empty."""
    exit_code: int = EXIT_OK
    data: dict[str, object] = field(default_factory=dict)
    """The JSON object the node printed (without `ok` and `command`)."""
    pauses: tuple[Pause, ...] = ()
    failed: FailedStep | None = None
    refused: bool = False
    rolled_back: bool = False
    rollback_problems: tuple[str, ...] = ()
    not_running: bool = False

    @property
    def failed_step(self) -> str | None:
        """`<script>:<line> (<instruction>)` of the failed step, if an install failed."""
        return None if self.failed is None else str(self.failed)

    @property
    def reason(self) -> str:
        """Why it failed: the failed step's reason, else the node's error line."""
        return self.failed.reason if self.failed is not None else self.summary

    @property
    def handover(self) -> dict[str, object] | None:
        """An upgrade that handed the node over to a successor node (a new runtime or
        interpreter): from which pid to which, why, what moved; None for a hot one."""
        if self.data.get("handover") is not True:
            return None
        return {k: self.data[k] for k in HANDOVER_KEYS if k in self.data}


class NodeError(Exception):
    """bin/<name> could not be run or answered something this adapter cannot read."""


class NodeCli:
    """bin/<name> of one deployed tree."""

    def __init__(self, root: str, name: str, run: Runner) -> None:
        self.root = root.rstrip("/") or "/"
        self.name = name
        self.script = f"{self.root}/bin/{name}"
        self._run_argv = run

    def _json(self, *args: str) -> tuple[int, dict[str, object]]:
        """Run `bin/<name> ARGS --json`: the exit code and the one JSON object it printed."""
        code, out, err = self._run_argv([self.script, *args, "--json"])
        value: object = None
        with suppress(ValueError):
            value = json.loads(out)
        if not isinstance(value, dict) or not isinstance(value.get("ok"), bool):
            said = _line(err)
            raise NodeError(
                f"{self.script} {args[0]} --json printed no JSON object (exit {code})"
                + (f": {said}" if said else "")
            )
        if value["ok"] is not (code == EXIT_OK):
            raise NodeError(f"{self.script} {args[0]} --json said ok={value['ok']} but exit {code}")
        return code, value

    def versions(self) -> tuple[tuple[str, str], ...]:
        """Every release the tree knows and its status, in the node's order."""
        code, data = self._json("versions")
        if code != EXIT_OK:
            raise NodeError(_error(data) or f"{self.script} versions exited {code}")
        rows = data.get("releases")
        if not isinstance(rows, list):
            raise NodeError(f"{self.script} versions --json has no releases list")
        found = []
        for row in rows:
            if not (
                isinstance(row, dict)
                and isinstance(row.get("version"), str)
                and isinstance(row.get("status"), str)
            ):
                raise NodeError(
                    f"{self.script} versions --json listed {row!r}; expected "
                    '{"version": ..., "status": ...}'
                )
            found.append((str(row["version"]), str(row["status"])))
        return tuple(found)

    def ping(self) -> bool:
        """True if the node answers (exit 0)."""
        return self._run_argv([self.script, "ping"])[0] == EXIT_OK

    def unpack(self, package: str) -> Outcome:
        return self._release("unpack", package)

    def install(self, version: str) -> Outcome:
        return self._release("install", version)

    def upgrade(self, package_or_version: str) -> Outcome:
        return self._release("upgrade", package_or_version)

    def downgrade(self, version: str) -> Outcome:
        return self._release("downgrade", version)

    def check(self, package_or_version: str, keep: bool = True) -> Outcome:
        """The node's dry run of everything before the point of no return.

        A package the node has not unpacked is unpacked for the check; with `keep` false it
        is removed again (`check --no-keep`), so the tree is as it was.
        """
        flags = () if keep else ("--no-keep",)
        return self._release("check", package_or_version, *flags)

    def permanent(self, version: str) -> Outcome:
        """`permanent VSN` has no --json: its exit code says how it went."""
        code, _, err = self._run_argv([self.script, "permanent", version])
        if code == EXIT_OK:
            return Outcome(("permanent", version), True, "")
        return Outcome(
            ("permanent", version),
            False,
            _without_name(_line(err), self.name) or f"{self.script} permanent exited {code}",
            code,
            refused=code == EXIT_FAILED,
            not_running=code == EXIT_NOT_RUNNING,
        )

    def _release(self, command: str, target: str, *flags: str) -> Outcome:
        code, data = self._json(command, target, *flags)
        body = {k: v for k, v in data.items() if k not in ("ok", "command")}
        if code == EXIT_OK:
            return Outcome((command, target), True, "", code, body, _pauses(body))
        if code == EXIT_USAGE:
            raise NodeError(f"{self.script} {command}: {_error(data)} (exit 2, a usage error)")
        report = data.get("report")
        report = report if isinstance(report, dict) else {}
        failed = _failed(report.get("failed"))
        problems = report.get("rollback_problems")
        return Outcome(
            (command, target),
            False,
            _error(data) or f"{self.script} {command} exited {code}",
            code,
            body,
            _pauses(report),
            failed,
            refused=code == EXIT_FAILED and failed is None,
            rolled_back=report.get("rolled_back") is True,
            rollback_problems=tuple(str(p) for p in problems) if isinstance(problems, list) else (),
            not_running=code == EXIT_NOT_RUNNING,
        )


def _pauses(data: dict[str, object]) -> tuple[Pause, ...]:
    rows = data.get("pauses")
    if not isinstance(rows, list):
        return ()
    found = []
    for row in rows:
        if isinstance(row, dict) and isinstance(row.get("ms"), int | float):
            name = row.get("name")
            found.append(
                Pause(
                    str(row.get("pid")),
                    name if isinstance(name, str) else None,
                    str(row.get("module")),
                    float(row["ms"]),
                )
            )
    return tuple(found)


def _failed(value: object) -> FailedStep | None:
    if not isinstance(value, dict) or not isinstance(value.get("line"), int):
        return None
    return FailedStep(
        str(value.get("script")),
        int(value["line"]),
        str(value.get("instruction")),
        str(value.get("reason")),
    )


def _error(data: dict[str, object]) -> str:
    error = data.get("error")
    return error if isinstance(error, str) else ""


def _line(text: str) -> str:
    """The last non-empty line of `text` (where bin/<name> says what went wrong)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _without_name(message: str, name: str) -> str:
    """The node's stderr line without its `<name>: ` prefix."""
    prefix = f"{name}: "
    return message[len(prefix) :] if message.startswith(prefix) else message
