"""The .relup text format: render low-level instructions to reviewable text, and parse it back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from primes_build.errors import BuildError
from primes_build.upgrade import lowlevel as ll


def render(comments: Iterable[str], instructions: Iterable[ll.Instruction]) -> str:
    """`# comment` lines, then one instruction a line; UTF-8 text ending in a newline."""
    lines = [f"# {c}" if c else "#" for c in comments]
    for instr in instructions:
        name, args = to_args(instr)
        lines.append(name if args is None else f"{name} {json.dumps(args, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def to_args(instr: ll.Instruction) -> tuple[str, dict[str, Any] | None]:
    """The instruction's name and its JSON arguments, in the order docs/formats.md lists them."""
    match instr:
        case ll.LoadObjectCode(app, from_vsn, to_vsn, path, modules):
            args = {"app": app, "from_vsn": from_vsn, "to_vsn": to_vsn, "path": path}
            return "load_object_code", {**args, "modules": list(modules)}
        case ll.PointOfNoReturn():
            return "point_of_no_return", None
        case ll.Suspend(modules, timeout):
            return "suspend", {"modules": list(modules), "timeout": float(timeout)}
        case ll.SwitchAppPath(app, from_vsn, to_vsn, from_path, to_path):
            args = {"app": app, "from_vsn": from_vsn, "to_vsn": to_vsn}
            return "switch_app_path", {**args, "from_path": from_path, "to_path": to_path}
        case ll.Load(module):
            return "load", {"module": module}
        case ll.CodeChange(modules, mode, old_vsn, extra, timeout):
            vsn: object = old_vsn if isinstance(old_vsn, str) else list(old_vsn)
            change: dict[str, Any] = {"modules": list(modules), "mode": mode, "old_vsn": vsn}
            return "code_change", {**change, "extra": extra, "timeout": float(timeout)}
        case ll.Resume(modules):
            return "resume", {"modules": list(modules)}
        case ll.Remove(module):
            return "remove", {"module": module}
        case ll.StartApp(app):
            return "start_app", {"app": app}
        case ll.StopApp(app):
            return "stop_app", {"app": app}
        case ll.Apply(module, function, args):
            return "apply", {"module": module, "function": function, "args": list(args)}


def parse(text: str, *, origin: str = "<relup>") -> list[ll.Instruction]:
    """The instructions of a .relup text; raises RelupError naming the line of what is wrong."""
    out: list[ll.Instruction] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, rest = line.partition(" ")
        try:
            out.append(_instruction(name, rest.strip()))
        except _Bad as bad:
            raise RelupError(str(bad), file=origin, line=number) from None
    return out


class RelupError(BuildError):
    """A .relup text that does not follow docs/formats.md."""


class _Bad(Exception):
    """A line that is not a valid instruction (message says why)."""


_KEYS: Mapping[str, tuple[str, ...]] = {
    "load_object_code": ("app", "from_vsn", "to_vsn", "path", "modules"),
    "point_of_no_return": (),
    "suspend": ("modules", "timeout"),
    "switch_app_path": ("app", "from_vsn", "to_vsn", "from_path", "to_path"),
    "load": ("module",),
    "code_change": ("modules", "mode", "old_vsn", "extra", "timeout"),
    "resume": ("modules",),
    "remove": ("module",),
    "start_app": ("app",),
    "stop_app": ("app",),
    "apply": ("module", "function", "args"),
}


def _instruction(name: str, rest: str) -> ll.Instruction:
    if name not in _KEYS:
        raise _Bad(f"unknown instruction `{name}`; expected one of {', '.join(_KEYS)}")
    if name == "point_of_no_return":
        if rest:
            raise _Bad("point_of_no_return takes no arguments")
        return ll.PointOfNoReturn()
    try:
        args = json.loads(rest) if rest else None
    except json.JSONDecodeError as e:
        raise _Bad(f"{name}: arguments are not valid JSON ({e.msg})") from None
    if not isinstance(args, dict):
        raise _Bad(f"{name}: arguments must be a JSON object")
    want = set(_KEYS[name])
    if set(args) != want:
        missing, extra = sorted(want - set(args)), sorted(set(args) - want)
        what = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unknown {', '.join(extra)}" if extra else "",
            )
            if part
        )
        raise _Bad(f"{name}: {what}")
    return _build(name, args)


def _build(name: str, a: Mapping[str, Any]) -> ll.Instruction:
    match name:
        case "load_object_code":
            return ll.LoadObjectCode(
                _str(a, "app"), _str(a, "from_vsn"), _str(a, "to_vsn"), _str(a, "path"),
                _strs(a, "modules"),
            )  # fmt: skip
        case "suspend":
            return ll.Suspend(_strs(a, "modules"), _num(a, "timeout"))
        case "switch_app_path":
            return ll.SwitchAppPath(
                _str(a, "app"), _str(a, "from_vsn"), _str(a, "to_vsn"),
                _str(a, "from_path"), _str(a, "to_path"),
            )  # fmt: skip
        case "load":
            return ll.Load(_str(a, "module"))
        case "code_change":
            mode: ll.Mode
            if a["mode"] == "up":
                mode = "up"
            elif a["mode"] == "down":
                mode = "down"
            else:
                raise _Bad(f'code_change: `mode` must be "up" or "down", not {a["mode"]!r}')
            old = a["old_vsn"]
            if mode == "up" and isinstance(old, str) and old:
                old_vsn: str | tuple[str, str] = old
            elif mode == "down" and _is_down_vsn(old):
                old_vsn = ("down", old[1])
            else:
                raise _Bad(
                    'code_change: `old_vsn` must be a version string for "up" '
                    'and ["down", "<version>"] for "down"'
                )
            return ll.CodeChange(_strs(a, "modules"), mode, old_vsn, a["extra"], _num(a, "timeout"))
        case "resume":
            return ll.Resume(_strs(a, "modules"))
        case "remove":
            return ll.Remove(_str(a, "module"))
        case "start_app":
            return ll.StartApp(_str(a, "app"))
        case "stop_app":
            return ll.StopApp(_str(a, "app"))
        case _:  # apply
            args = a["args"]
            if not isinstance(args, list):
                raise _Bad("apply: `args` must be a list")
            return ll.Apply(_str(a, "module"), _str(a, "function"), tuple(args))


def _is_down_vsn(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and value[0] == "down"
        and isinstance(value[1], str)
    )


def _str(a: Mapping[str, Any], key: str) -> str:
    value = a[key]
    if not isinstance(value, str) or not value:
        raise _Bad(f"`{key}` must be a non-empty string")
    return value


def _strs(a: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = a[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _Bad(f"`{key}` must be a list of non-empty strings")
    return tuple(value)


def _num(a: Mapping[str, Any], key: str) -> float:
    value = a[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _Bad(f"`{key}` must be a positive number of seconds")
    return float(value)
