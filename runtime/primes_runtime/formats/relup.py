"""`.relup` upgrade scripts: the instructions, parse, render and the structural check."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import FormatError
from .hashing import HEX64

#: The format version this module writes. Version 1 (no header line) is still read.
FORMAT = 2
READABLE_FORMATS = (1, 2)
HEADER = "#relup"
DEFAULT_TIMEOUT = 5.0

Mode = Literal["up", "down"]


def _line() -> Any:
    """The source line of an instruction: kept for messages, ignored by ==."""
    return field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True)
class LoadObjectCode:
    """Read, check and prepare `modules` from the app's new code dir `path`; changes nothing.

    `from_vsn` is null only for a library the release adds."""

    app: str
    from_vsn: str | None
    to_vsn: str
    path: str
    modules: tuple[str, ...]
    line: int = _line()


@dataclass(frozen=True)
class PointOfNoReturn:
    """Before it a failure is a clean refusal; after it a failure rolls back in-process."""

    line: int = _line()


@dataclass(frozen=True)
class Suspend:
    """Suspend every process whose callback module is one of `modules`."""

    modules: tuple[str, ...]
    timeout: float = DEFAULT_TIMEOUT
    line: int = _line()


@dataclass(frozen=True)
class SwitchAppPath:
    """The app's code dir on sys.path becomes `to_path`; its version and env the target's.

    Only a library (a locked third-party distribution) may be added (`from_vsn` and
    `from_path` null) or removed (`to_vsn` and `to_path` null); an app always has both."""

    app: str
    from_vsn: str | None
    to_vsn: str | None
    from_path: str | None
    to_path: str | None
    line: int = _line()


@dataclass(frozen=True)
class Load:
    """The prepared `module` becomes current."""

    module: str
    line: int = _line()


@dataclass(frozen=True)
class CodeChange:
    """Call `code_change` for each suspended process on `modules` (old_vsn "1" or ("down", "1"))."""

    modules: tuple[str, ...]
    mode: Mode
    old_vsn: str | tuple[str, str]
    extra: object = None
    timeout: float = DEFAULT_TIMEOUT
    line: int = _line()


@dataclass(frozen=True)
class Resume:
    """Resume the processes suspended for `modules`."""

    modules: tuple[str, ...]
    line: int = _line()


@dataclass(frozen=True)
class Remove:
    """Drop `module` from sys.modules."""

    module: str
    line: int = _line()


@dataclass(frozen=True)
class StartApp:
    """Start the application `app` (it is in the target release's manifest)."""

    app: str
    line: int = _line()


@dataclass(frozen=True)
class StopApp:
    """Stop the application `app`."""

    app: str
    line: int = _line()


@dataclass(frozen=True)
class Apply:
    """Call `module.function(*args)`."""

    module: str
    function: str
    args: tuple[object, ...] = ()
    line: int = _line()


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
class Against:
    """The release a script was built against, other than its own: version and release.json hash.

    For `up_from_<old>` it is the release the node upgrades from; for `down_to_<old>` the one
    it goes back to. The node refuses the script when its own copy of that release differs.
    """

    version: str
    sha256: str


@dataclass(frozen=True)
class Relup:
    """A parsed upgrade script: where it came from, its format, what it was built against."""

    path: Path
    instructions: tuple[Instruction, ...]
    format: int = FORMAT
    against: Against | None = None


# -- render ----------------------------------------------------------------------------------


def render(script: Relup, comments: Iterable[str] = ()) -> str:
    """The header line, `# comment` lines, then one instruction a line; ends in a newline."""
    lines: list[str] = []
    if script.format >= 2:
        if script.against is None:
            raise ValueError("a format 2 script names the release it was built against")
        header = {"against": script.against.version, "sha256": script.against.sha256}
        lines.append(f"{HEADER} {script.format} {json.dumps(header)}")
    lines += [f"# {c}" if c else "#" for c in comments]
    for instruction in script.instructions:
        name, args = to_args(instruction)
        lines.append(name if args is None else f"{name} {json.dumps(args, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def to_args(instruction: Instruction) -> tuple[str, dict[str, Any] | None]:
    """The instruction's name and its JSON arguments, in the order docs/formats.md lists them."""
    match instruction:
        case LoadObjectCode(app, from_vsn, to_vsn, path, modules):
            return "load_object_code", {
                "app": app, "from_vsn": from_vsn, "to_vsn": to_vsn, "path": path,
                "modules": list(modules),
            }  # fmt: skip
        case PointOfNoReturn():
            return "point_of_no_return", None
        case Suspend(modules, timeout):
            return "suspend", {"modules": list(modules), "timeout": float(timeout)}
        case SwitchAppPath(app, from_vsn, to_vsn, from_path, to_path):
            return "switch_app_path", {
                "app": app, "from_vsn": from_vsn, "to_vsn": to_vsn,
                "from_path": from_path, "to_path": to_path,
            }  # fmt: skip
        case Load(module):
            return "load", {"module": module}
        case CodeChange(modules, mode, old_vsn, extra, timeout):
            vsn: object = old_vsn if isinstance(old_vsn, str) else list(old_vsn)
            change: dict[str, Any] = {"modules": list(modules), "mode": mode, "old_vsn": vsn}
            return "code_change", {**change, "extra": _thawed(extra), "timeout": float(timeout)}
        case Resume(modules):
            return "resume", {"modules": list(modules)}
        case Remove(module):
            return "remove", {"module": module}
        case StartApp(app):
            return "start_app", {"app": app}
        case StopApp(app):
            return "stop_app", {"app": app}
        case Apply(module, function, args):
            return "apply", {"module": module, "function": function, "args": _thawed(args)}


def _thawed(value: object) -> object:
    """Tuples back to JSON lists."""
    if isinstance(value, tuple | list):
        return [_thawed(v) for v in value]
    return value


def _frozen(value: object) -> object:
    """JSON lists become tuples, so ["down", "1"] reaches code_change as ("down", "1")."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def describe(instruction: Instruction) -> str:
    """A short human name for an instruction, e.g. `code_change prime_miner.miner`."""
    name = to_args(instruction)[0]
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


# -- parse -----------------------------------------------------------------------------------


class _Bad(Exception):
    """One line is wrong; the message says what (parse() adds file and line)."""


class _Args:
    """Typed access to one instruction's JSON arguments; every key must be used once."""

    def __init__(self, name: str, raw: dict[str, Any]) -> None:
        self.name = name
        self.raw = raw
        self.seen: set[str] = set()

    def _fail(self, key: str, what: str) -> _Bad:
        return _Bad(f"{self.name} argument '{key}' {what}; fix the script")

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

    def text_or_null(self, key: str) -> str | None:
        value = self._get(key)
        if value is not None and (not isinstance(value, str) or not value):
            raise self._fail(key, "must be a non-empty string or null")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self._get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self._fail(key, "must be a list of module names")
        return tuple(value)

    def timeout(self) -> float:
        value = self._get("timeout", DEFAULT_TIMEOUT)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self._fail("timeout", "must be a positive number of seconds")
        return float(value)

    def any(self, key: str, default: object = ...) -> object:
        return self._get(key, default)

    def done(self) -> None:
        unknown = sorted(set(self.raw) - self.seen)
        if unknown:
            raise _Bad(f"{self.name} has unknown argument(s) {', '.join(unknown)}; fix the script")


def _load_object_code(a: _Args, line: int) -> Instruction:
    return LoadObjectCode(
        a.text("app"), a.text_or_null("from_vsn"), a.text("to_vsn"), a.text("path"),
        a.texts("modules"), line=line,
    )  # fmt: skip


def _switch_app_path(a: _Args, line: int) -> Instruction:
    switch = SwitchAppPath(
        a.text("app"), a.text_or_null("from_vsn"), a.text_or_null("to_vsn"),
        a.text_or_null("from_path"), a.text_or_null("to_path"), line=line,
    )  # fmt: skip
    if (switch.from_vsn is None) != (switch.from_path is None):
        raise a._fail("from_path", "must be null exactly when from_vsn is (an added library)")
    if (switch.to_vsn is None) != (switch.to_path is None):
        raise a._fail("to_path", "must be null exactly when to_vsn is (a removed library)")
    if switch.from_vsn is None and switch.to_vsn is None:
        raise a._fail("to_vsn", "and from_vsn cannot both be null")
    return switch


def _code_change(a: _Args, line: int) -> Instruction:
    modules = a.texts("modules")
    mode = a.text("mode")
    if mode not in ("up", "down"):
        raise a._fail("mode", "must be 'up' or 'down'")
    old = a.any("old_vsn")
    old_vsn: str | tuple[str, str]
    if mode == "up" and isinstance(old, str) and old:
        old_vsn = old
    elif mode == "down" and isinstance(old, list) and _is_down_vsn(old):
        old_vsn = ("down", old[1])
    else:
        raise a._fail(
            "old_vsn", 'must be a version string for "up" and ["down", "<version>"] for "down"'
        )
    extra = _frozen(a.any("extra", None))
    return CodeChange(modules, "up" if mode == "up" else "down", old_vsn, extra, a.timeout(),
                      line=line)  # fmt: skip


def _is_down_vsn(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and value[0] == "down"
        and isinstance(value[1], str)
        and bool(value[1])
    )


def _apply(a: _Args, line: int) -> Instruction:
    module, function = a.text("module"), a.text("function")
    args = a.any("args", [])
    if not isinstance(args, list):
        raise a._fail("args", "must be a list")
    return Apply(module, function, tuple(_frozen(v) for v in args), line=line)


_PARSERS: dict[str, Callable[[_Args, int], Instruction]] = {
    "load_object_code": _load_object_code,
    "suspend": lambda a, line: Suspend(a.texts("modules"), a.timeout(), line=line),
    "switch_app_path": _switch_app_path,
    "load": lambda a, line: Load(a.text("module"), line=line),
    "code_change": _code_change,
    "resume": lambda a, line: Resume(a.texts("modules"), line=line),
    "remove": lambda a, line: Remove(a.text("module"), line=line),
    "start_app": lambda a, line: StartApp(a.text("app"), line=line),
    "stop_app": lambda a, line: StopApp(a.text("app"), line=line),
    "apply": _apply,
}
NAMES = ("point_of_no_return", *_PARSERS)


def parse(text: str, path: Path) -> Relup:
    """Parse script text (format 1 or 2); a FormatError names `path`, the line and the fix."""
    lines = text.splitlines()
    version, against = _header(lines[0] if lines else "", str(path))
    instructions: list[Instruction] = []
    for number, raw_line in enumerate(lines, start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            if number > 1 and line.startswith(f"{HEADER} "):
                raise FormatError(
                    "the #relup header belongs on line 1", file=str(path), line=number
                )
            continue
        try:
            instructions.append(_instruction(line, number))
        except _Bad as bad:
            raise FormatError(str(bad), file=str(path), line=number) from None
    points = [i for i in instructions if isinstance(i, PointOfNoReturn)]
    if len(points) > 1:
        raise FormatError("a second point_of_no_return; keep one", file=str(path),
                          line=points[1].line)  # fmt: skip
    return Relup(path, tuple(instructions), version, against)


def _header(first: str, where: str) -> tuple[int, Against | None]:
    """Format 1 has no header; format 2 starts `#relup 2 {"against": VSN, "sha256": HEX}`."""
    if not first.startswith(f"{HEADER} "):
        return 1, None
    _, _, rest = first.partition(" ")
    number, _, meta = rest.strip().partition(" ")
    if not number.isdigit() or int(number) not in READABLE_FORMATS:
        raise FormatError(
            f"relup format {number!r} is not one this runtime reads "
            f"({', '.join(map(str, READABLE_FORMATS))}); upgrade the node's runtime first",
            file=where, line=1,
        )  # fmt: skip
    try:
        data = json.loads(meta)
    except json.JSONDecodeError as exc:
        raise FormatError(f"the header is not valid JSON ({exc.msg})", file=where, line=1) from None
    if (
        not isinstance(data, dict)
        or set(data) != {"against", "sha256"}
        or not isinstance(data["against"], str)
        or not data["against"]
        or not isinstance(data["sha256"], str)
        or not HEX64.match(data["sha256"])
    ):
        raise FormatError(
            'the header must be #relup 2 {"against": "<version>", "sha256": "<64 hex>"}',
            file=where, line=1,
        )  # fmt: skip
    return int(number), Against(data["against"], data["sha256"])


def _instruction(line: str, number: int) -> Instruction:
    name, _, rest = line.partition(" ")
    if name == "point_of_no_return":
        if rest.strip():
            raise _Bad("point_of_no_return takes no arguments")
        return PointOfNoReturn(line=number)
    parser = _PARSERS.get(name)
    if parser is None:
        raise _Bad(f"unknown instruction {name!r}; expected one of {', '.join(NAMES)}")
    try:
        raw = json.loads(rest)
    except json.JSONDecodeError as exc:
        raise _Bad(f"{name} arguments are not valid JSON ({exc.msg}); fix the script") from None
    if not isinstance(raw, dict):
        raise _Bad(f"{name} arguments must be a JSON object")
    args = _Args(name, raw)
    instruction = parser(args, number)
    args.done()
    return instruction


def read(path: Path, text: str | None = None) -> Relup:
    """Read and parse a .relup file; an unreadable file is a FormatError too."""
    if text is None:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as exc:
            raise FormatError(f"cannot read the upgrade script ({exc.strerror})",
                              file=str(path)) from None  # fmt: skip
        except UnicodeDecodeError:
            raise FormatError("the upgrade script is not UTF-8 text", file=str(path)) from None
    return parse(text, path)


# -- structural check ------------------------------------------------------------------------


def problems(instructions: Sequence[Instruction]) -> list[str]:
    """What breaks the grammar's ordering rules, one `line N: ...` entry per problem.

    Only load_object_code before point_of_no_return and never after it; no module suspended
    twice before its resume; code_change and resume only of suspended modules; load only of
    prepared modules, each once; every suspended module resumed.
    """
    found: list[str] = []
    prepared: set[str] = set()
    suspended: set[str] = set()
    loaded: set[str] = set()
    has_ponr = any(isinstance(i, PointOfNoReturn) for i in instructions)
    past_ponr = not has_ponr
    preparing = True
    for ins in instructions:
        where = f"line {ins.line}" if ins.line else describe(ins)
        if isinstance(ins, PointOfNoReturn):
            past_ponr = True
            preparing = False
            continue
        if not isinstance(ins, LoadObjectCode):
            if has_ponr and not past_ponr:
                found.append(f"{where}: {describe(ins)} comes before point_of_no_return")
            preparing = False
        elif not preparing:
            found.append(f"{where}: load_object_code after the preparation phase")
        match ins:
            case LoadObjectCode(modules=modules):
                prepared.update(modules)
            case Suspend(modules=modules):
                found += [f"{where}: {m} is suspended twice" for m in modules if m in suspended]
                suspended.update(modules)
            case CodeChange(modules=modules):
                found += [
                    f"{where}: code_change of {m} without a suspend before it"
                    for m in modules
                    if m not in suspended
                ]
            case Resume(modules=modules):
                found += [f"{where}: resume of {m} never suspended" for m in modules
                          if m not in suspended]  # fmt: skip
                suspended.difference_update(modules)
            case Load(module=module):
                if module not in prepared:
                    found.append(f"{where}: load of {module} not prepared by load_object_code")
                if module in loaded:
                    found.append(f"{where}: {module} is loaded twice")
                loaded.add(module)
            case _:
                pass
    found += [f"{m} is suspended and never resumed" for m in sorted(suspended)]
    return found


def check(script: Relup) -> None:
    """Raise FormatError at the first structural problem (problems() lists them all)."""
    found = problems(script.instructions)
    if found:
        raise FormatError(
            f"{len(found)} problem(s): {'; '.join(found[:5])}"
            + ("; ..." if len(found) > 5 else ""),
            file=str(script.path),
        )
