"""Parse a .relup upgrade script (docs/formats.md) into frozen instruction dataclasses."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ReleaseError


@dataclass(frozen=True)
class LoadObjectCode:
    """Read, check and prepare the listed modules from the new code dir."""

    line: int
    app: str
    from_vsn: str | None
    to_vsn: str | None
    path: str
    modules: tuple[str, ...]


@dataclass(frozen=True)
class PointOfNoReturn:
    """Before it a failure is a clean refusal; after it a failure rolls back in-process."""

    line: int


@dataclass(frozen=True)
class Suspend:
    """Suspend every process whose callback module is one of `modules`."""

    line: int
    modules: tuple[str, ...]
    timeout: float


@dataclass(frozen=True)
class SwitchAppPath:
    """The app's code dir on sys.path becomes `to_path`; its version and env the new release's."""

    line: int
    app: str
    from_vsn: str | None
    to_vsn: str | None
    from_path: str | None
    to_path: str | None


@dataclass(frozen=True)
class Load:
    """The prepared module becomes current."""

    line: int
    module: str


@dataclass(frozen=True)
class CodeChange:
    """Call code_change of the new module for each suspended process on `modules`."""

    line: int
    modules: tuple[str, ...]
    mode: str
    old_vsn: object
    extra: object
    timeout: float


@dataclass(frozen=True)
class Resume:
    """Resume the processes suspended for `modules`."""

    line: int
    modules: tuple[str, ...]


@dataclass(frozen=True)
class Remove:
    """Drop the module from sys.modules."""

    line: int
    module: str


@dataclass(frozen=True)
class StartApp:
    """Start an application of the target release."""

    line: int
    app: str


@dataclass(frozen=True)
class StopApp:
    """Stop an application."""

    line: int
    app: str


@dataclass(frozen=True)
class Apply:
    """Call module.function(*args)."""

    line: int
    module: str
    function: str
    args: tuple[object, ...]


Instruction = (
    LoadObjectCode
    | PointOfNoReturn
    | Suspend
    | SwitchAppPath
    | Load
    | CodeChange
    | Resume
    | Remove
    | StartApp
    | StopApp
    | Apply
)


@dataclass(frozen=True)
class Relup:
    """A parsed upgrade script: where it came from and its instructions in order."""

    path: Path
    instructions: tuple[Instruction, ...]


class _Args:
    """Typed access to one instruction's JSON arguments, with errors naming file and line."""

    def __init__(self, where: str, name: str, raw: dict[str, Any]) -> None:
        self.where = where
        self.name = name
        self.raw = raw
        self.seen: set[str] = set()

    def _fail(self, key: str, what: str) -> ReleaseError:
        return ReleaseError(f"{self.where}: {self.name} argument '{key}' {what}; fix the script")

    def _get(self, key: str, default: object = ...) -> object:
        self.seen.add(key)
        if key not in self.raw:
            if default is ...:
                raise self._fail(key, "is missing")
            return default
        return self.raw[key]

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not value:
            raise self._fail(key, "must be a non-empty string")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self._get(key, None)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "must be a string or null")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self._get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self._fail(key, "must be a list of module names")
        return tuple(value)

    def timeout(self) -> float:
        value = self._get("timeout", 5.0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self._fail("timeout", "must be a positive number of seconds")
        return float(value)

    def any(self, key: str, default: object = None) -> object:
        return self._get(key, default)

    def done(self) -> None:
        unknown = sorted(set(self.raw) - self.seen)
        if unknown:
            raise ReleaseError(
                f"{self.where}: {self.name} has unknown argument(s) {', '.join(unknown)}; "
                "fix the script"
            )


def _frozen(value: object) -> object:
    """JSON lists become tuples, so ["down", "1"] reaches code_change as ("down", "1")."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _load_object_code(line: int, a: _Args) -> Instruction:
    return LoadObjectCode(
        line, a.text("app"), a.opt_text("from_vsn"), a.opt_text("to_vsn"), a.text("path"),
        a.texts("modules"),
    )  # fmt: skip


def _suspend(line: int, a: _Args) -> Instruction:
    return Suspend(line, a.texts("modules"), a.timeout())


def _switch_app_path(line: int, a: _Args) -> Instruction:
    return SwitchAppPath(
        line, a.text("app"), a.opt_text("from_vsn"), a.opt_text("to_vsn"),
        a.opt_text("from_path"), a.opt_text("to_path"),
    )  # fmt: skip


def _code_change(line: int, a: _Args) -> Instruction:
    modules = a.texts("modules")
    mode = a.text("mode")
    if mode not in ("up", "down"):
        raise a._fail("mode", "must be 'up' or 'down'")
    old_vsn = _frozen(a.any("old_vsn"))
    extra = _frozen(a.any("extra"))
    return CodeChange(line, modules, mode, old_vsn, extra, a.timeout())


def _apply(line: int, a: _Args) -> Instruction:
    args = a.any("args", [])
    if not isinstance(args, list):
        raise a._fail("args", "must be a list")
    return Apply(line, a.text("module"), a.text("function"), tuple(_frozen(v) for v in args))


_PARSERS: dict[str, Callable[[int, _Args], Instruction]] = {
    "load_object_code": _load_object_code,
    "suspend": _suspend,
    "switch_app_path": _switch_app_path,
    "load": lambda line, a: Load(line, a.text("module")),
    "code_change": _code_change,
    "resume": lambda line, a: Resume(line, a.texts("modules")),
    "remove": lambda line, a: Remove(line, a.text("module")),
    "start_app": lambda line, a: StartApp(line, a.text("app")),
    "stop_app": lambda line, a: StopApp(line, a.text("app")),
    "apply": _apply,
}


def parse(text: str, path: Path) -> Relup:
    """Parse script text; errors name `path`, the line and what to fix."""
    instructions: list[Instruction] = []
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        where = f"{path}:{number}"
        if not line or line.startswith("#"):
            continue
        name, _, rest = line.partition(" ")
        if name == "point_of_no_return":
            if rest.strip():
                raise ReleaseError(f"{where}: point_of_no_return takes no arguments")
            instructions.append(PointOfNoReturn(number))
            continue
        parser = _PARSERS.get(name)
        if parser is None:
            known = ", ".join(["point_of_no_return", *_PARSERS])
            raise ReleaseError(f"{where}: unknown instruction {name!r}; expected one of {known}")
        try:
            raw = json.loads(rest)
        except json.JSONDecodeError as exc:
            raise ReleaseError(
                f"{where}: {name} arguments are not valid JSON ({exc.msg}); fix the script"
            ) from None
        if not isinstance(raw, dict):
            raise ReleaseError(f"{where}: {name} arguments must be a JSON object")
        args = _Args(where, name, raw)
        instruction = parser(number, args)
        args.done()
        instructions.append(instruction)
    points = [i for i in instructions if isinstance(i, PointOfNoReturn)]
    if len(points) > 1:
        raise ReleaseError(f"{path}:{points[1].line}: a second point_of_no_return; keep one")
    return Relup(path, tuple(instructions))


def read(path: Path) -> Relup:
    """Read and parse a .relup file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReleaseError(f"{path}: cannot read the upgrade script ({exc.strerror})") from None
    return parse(text, path)


def describe(instruction: Instruction) -> str:
    """A short human name for an instruction, e.g. `code_change prime_miner.miner`."""
    name = _name(instruction)
    match instruction:
        case (
            LoadObjectCode(app=app) | SwitchAppPath(app=app) | StartApp(app=app) | StopApp(app=app)
        ):
            return f"{name} {app}"
        case Suspend(modules=mods) | CodeChange(modules=mods) | Resume(modules=mods):
            return f"{name} {', '.join(mods)}"
        case Load(module=mod) | Remove(module=mod):
            return f"{name} {mod}"
        case Apply(module=mod, function=fn):
            return f"{name} {mod}:{fn}"
        case PointOfNoReturn():
            return name


def _name(instruction: Instruction) -> str:
    """The instruction's script name (snake_case of the class name)."""
    cls = type(instruction).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in cls).lstrip("_")
