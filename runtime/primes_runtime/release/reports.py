"""What release operations return: frozen reports with a human `summary()`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from .. import safetext
from .errors import ReleaseError
from .pauses import Data, Pause, Pauses, median_ms
from .pauses import list_field as _list
from .pauses import text_field as _text


@dataclass(frozen=True)
class ReleaseStatus:
    """One release known to a node: unpacked, current, permanent or old."""

    version: str
    status: str


@dataclass(frozen=True)
class FailedStep:
    """The instruction that failed: where in the script, what it was, and why."""

    script: str
    line: int
    instruction: str
    reason: str

    def __str__(self) -> str:
        return f"{self.script}:{self.line} ({self.instruction}): {self.reason}"


@dataclass(frozen=True)
class Crash:
    """A touched process whose callback raised during probation."""

    pid: str
    name: str | None
    module: str
    kind: str
    """What it was handling: call, cast, info (or timer)."""
    error: str
    """`ExceptionType: message`."""
    state: str = ""
    """What state it got back (see docs/release-handling.md, probation)."""

    def who(self) -> str:
        return (
            f"{self.pid} {self.name} ({self.module})"
            if self.name
            else f"{self.pid} ({self.module})"
        )


_STATES = {
    "converted down": "has the state it had before that message, converted down by the down script",
    "kept as it was": "has the state it had before that message (no code_change to convert it)",
    "pre-upgrade snapshot": "has its pre-upgrade snapshot back",
}
"""How a summary says what state a crashed process got back."""


@dataclass(frozen=True)
class Probation:
    """How the probation window of an install went."""

    seconds: float
    watched: int
    """Processes the install touched, watched for a crash."""
    passed: bool
    crash: Crash | None = None
    rollback: str = ""
    """How the node went back (the down script, or pre-upgrade snapshots and why)."""
    converted: tuple[str, ...] = ()
    """Pids of the other touched processes, converted down by the down script."""
    retried: bool = False
    """Whether the message that crashed was handled again (never: it may be what crashes)."""

    def to_data(self) -> Data:
        data = asdict(self)
        data["converted"] = list(self.converted)
        return data

    @classmethod
    def from_data(cls, data: Data) -> Probation:
        crash = data.get("crash")
        found = None
        if isinstance(crash, dict):
            name = crash.get("name")
            found = Crash(
                _text(crash, "pid"), name if isinstance(name, str) else None,
                _text(crash, "module"), _text(crash, "kind"), _text(crash, "error"),
                str(crash.get("state", "")),
            )  # fmt: skip
        return cls(
            float(data["seconds"]),  # type: ignore[arg-type]
            int(data["watched"]),  # type: ignore[call-overload]
            data.get("passed") is True,
            found,
            str(data.get("rollback", "")),
            tuple(str(p) for p in _list(data, "converted")),
            data.get("retried") is True,
        )


@dataclass(frozen=True)
class CheckReport:
    """The dry run of everything before the point of no return."""

    from_version: str
    to_version: str
    script: str
    instructions: int
    modules_prepared: tuple[str, ...]
    processes: tuple[tuple[str, int], ...]
    warnings: tuple[str, ...]

    def summary(self) -> str:
        lines = [
            f"release {self.to_version} can be installed over {self.from_version} "
            f"({self.script}, {self.instructions} instructions)",
            f"  new code loads: {', '.join(self.modules_prepared) or '(no modules)'}",
        ]
        lines += [f"  {module}: {count} process(es) to suspend" for module, count in self.processes]
        lines += [f"  warning: {w}" for w in self.warnings]
        return safetext.lines(lines)

    def to_data(self) -> Data:
        data = asdict(self)
        data["processes"] = [{"module": m, "count": n} for m, n in self.processes]
        data["modules_prepared"] = list(self.modules_prepared)
        data["warnings"] = list(self.warnings)
        return data

    @classmethod
    def from_data(cls, data: Data) -> CheckReport:
        """The report `to_data` made; TypeError/KeyError/ValueError when it is malformed."""
        processes = []
        for row in _list(data, "processes"):
            if not isinstance(row, dict):
                raise TypeError("processes must hold objects")
            processes.append((_text(row, "module"), int(row["count"])))
        return cls(
            _text(data, "from_version"),
            _text(data, "to_version"),
            _text(data, "script"),
            int(data["instructions"]),  # type: ignore[call-overload]
            tuple(str(m) for m in _list(data, "modules_prepared")),
            tuple(processes),
            tuple(str(w) for w in _list(data, "warnings")),
        )


ALREADY_PERMANENT = "(already permanent)"
"""The script of a report on an upgrade or downgrade to the release that is permanent already."""


@dataclass(frozen=True)
class InstallReport:
    """The outcome of an install: the pauses it caused and, if it failed, where and why."""

    from_version: str
    to_version: str
    script: str
    direction: str
    pauses: Pauses
    failed: FailedStep | None = None
    rollback_problems: tuple[str, ...] = ()
    permanent: bool = False
    probation: Probation | None = None
    old_code: tuple[str, ...] = ()  # connections still running old code (node.lingering)

    @property
    def ok(self) -> bool:
        return self.failed is None

    @property
    def max_pause_ms(self) -> float:
        return self.pauses.longest_ms

    def summary(self) -> str:
        trial = self.probation
        if self.script == ALREADY_PERMANENT:
            lines = [f"release {self.to_version} is already permanent; nothing to do"]
        elif self.failed is None:
            made = " and made permanent" if self.permanent else " (not yet permanent)"
            lines = [
                f"release {self.to_version} installed over {self.from_version} "
                f"({self.direction}, {self.script}){made}"
            ]
            if trial is not None and trial.seconds > 0 and trial.watched:
                lines.append(
                    f"  probation: {trial.watched} process(es) ran it {trial.seconds:g} s "
                    "without a crash"
                )
        elif trial is not None and trial.crash is not None:
            crash = trial.crash
            lines = [
                f"install of {self.to_version} rolled back: process {crash.who()} crashed "
                f"handling a {crash.kind} within the {trial.seconds:g} s probation: "
                f"{crash.error}; release {self.from_version} is still current"
            ]
            lines.append(f"  {crash.pid} {_STATES.get(crash.state, crash.state)}")
            lines.append(f"  the {crash.kind} that crashed it was not retried")
            lines.append(f"  rolled back by {trial.rollback}")
            if trial.converted:
                lines.append(f"  converted down: {', '.join(trial.converted)}")
            lines += [f"  rollback problem: {p}" for p in self.rollback_problems]
        else:
            lines = [
                f"install of {self.to_version} failed at {self.failed}; "
                f"rolled back, release {self.from_version} is still current"
            ]
            lines += [f"  rollback problem: {p}" for p in self.rollback_problems]
        lines += _pause_lines(self.pauses)
        lines += [f"  still on old code: {line}" for line in self.old_code]
        return safetext.lines(lines)

    def to_data(self, batched: bool = False) -> Data:
        """Plain data; `batched`: the pauses as batches (`Pauses.to_data`), for a client
        that asked for them."""
        data: Data = {}
        for f in fields(self):
            if f.name == "pauses":
                data.update(self.pauses.to_data(batched))
            else:
                data[f.name] = getattr(self, f.name)  # asdict: 10x slower
        data["failed"] = asdict(self.failed) if self.failed is not None else None
        data["ok"] = self.ok
        data["rolled_back"] = self.failed is not None and not self.rollback_problems
        data["max_pause_ms"] = round(self.max_pause_ms, 3)
        data["rollback_problems"] = list(self.rollback_problems)
        data["probation"] = self.probation.to_data() if self.probation is not None else None
        data["old_code"] = list(self.old_code)
        return data

    @classmethod
    def from_data(cls, data: Data) -> InstallReport:
        """The report `to_data` made; TypeError/KeyError/ValueError when it is malformed."""
        failed, trial = data.get("failed"), data.get("probation")
        step = None
        if isinstance(failed, dict):
            step = FailedStep(
                _text(failed, "script"),
                int(failed["line"]),
                _text(failed, "instruction"),
                _text(failed, "reason"),
            )
        return cls(
            _text(data, "from_version"),
            _text(data, "to_version"),
            _text(data, "script"),
            _text(data, "direction"),
            Pauses.from_data(data),
            step,
            tuple(str(p) for p in _list(data, "rollback_problems")),
            data.get("permanent") is True,
            Probation.from_data(trial) if isinstance(trial, dict) else None,
            tuple(str(line) for line in _list(data, "old_code")),
        )


LISTED_PAUSES = 10
"""Up to this many paused processes, a report's text names each; beyond, one line a module."""


def _pause_lines(pauses: Pauses) -> list[str]:
    """The report's lines on pauses: one per process, or per module for many processes."""
    if len(pauses) <= LISTED_PAUSES:
        return [f"  paused {_who(p)} ({p.module}) {p.ms:.1f} ms" for p in pauses]
    lines = []
    for module, batches in pauses.by_module().items():
        count = sum(len(b.pids) for b in batches)
        longest = max(batches, key=lambda b: b.ms)
        first = next(longest.each())
        lines.append(
            f"  paused {count} process{'es' if count > 1 else ''} ({module}): "
            f"longest {longest.ms:.1f} ms "
            f"({_who(first)}), median {median_ms(batches):.1f} ms"
        )
    return lines


def _who(pause: Pause) -> str:
    return f"{pause.pid} {pause.name}" if pause.name else pause.pid


class InstallFailed(ReleaseError):
    """An install failed after the point of no return and was rolled back; see `report`."""

    def __init__(self, report: InstallReport) -> None:
        super().__init__(report.summary().splitlines()[0])
        self.report = report
