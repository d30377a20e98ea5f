"""Read and validate an app's declared upgrade instructions ([tool.primes.app.upgrade])."""

from __future__ import annotations

import datetime
import difflib
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from primes_build.errors import BuildError
from primes_build.upgrade import instructions as hl
from primes_build.upgrade.toml_lines import locate

DIRECTIONS = ("up_from", "down_to")
_FORMS = (
    "update",
    "load_module",
    "add_module",
    "delete_module",
    "add_application",
    "remove_application",
    "restart_application",
    "apply",
)
_OPTIONS = {"update": ("extra", "timeout"), "apply": ("args",)}
_MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_APP = re.compile(r"^[A-Za-z_]\w*$")


@dataclass(frozen=True)
class Located:
    """A declared instruction and where it was written."""

    instr: hl.HighLevel
    key: str
    line: int | None


@dataclass(frozen=True)
class AppDeclarations:
    """Everything one app's pyproject.toml declares about upgrades.

    `versions[to_vsn][direction][other_vsn]` is the instruction list for going from
    `other_vsn` up to `to_vsn` (direction "up_from") or from `to_vsn` down to
    `other_vsn` ("down_to"); `"*"` matches any version not listed.
    """

    app: str
    file: str
    versions: Mapping[str, Mapping[str, Mapping[str, tuple[Located, ...]]]]

    def lookup(
        self, app_vsn: str, direction: str, other_vsn: str
    ) -> tuple[str, tuple[Located, ...]] | None:
        """(the matching key, its instructions) for that pair, or None if nothing is declared."""
        table = self.versions.get(app_vsn, {}).get(direction, {})
        for key in (other_vsn, "*"):
            if key in table:
                return key, table[key]
        return None

    def key(self, app_vsn: str, direction: str, other_vsn: str) -> str:
        """The TOML path of one instruction list, for messages."""
        return f'tool.primes.app.upgrade."{app_vsn}".{direction}."{other_vsn}"'


def read_declarations(app: str, source_dir: Path, display: str) -> AppDeclarations:
    """Parse `<source_dir>/pyproject.toml`; `display` is how messages name that file."""
    path = source_dir / "pyproject.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise BuildError(
            f"cannot read the app's pyproject.toml ({e.strerror})", file=display
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise BuildError(f"not valid TOML: {e}", file=display) from None
    return parse_declarations(app, data, text, display)


def parse_declarations(
    app: str, data: Mapping[str, object], text: str, display: str
) -> AppDeclarations:
    """Validate the `[tool.primes.app.upgrade]` table of a parsed pyproject.toml."""
    upgrade = _dig(data, ("tool", "primes", "app", "upgrade"))
    if upgrade is None:
        return AppDeclarations(app, display, {})
    base = "tool.primes.app.upgrade"
    if not isinstance(upgrade, dict):
        raise BuildError("must be a table of versions", file=display, key=base)
    versions: dict[str, dict[str, dict[str, tuple[Located, ...]]]] = {}
    for vsn, table in upgrade.items():
        vkey = f'{base}."{vsn}"'
        if not isinstance(table, dict):
            raise BuildError(
                "must be a table with `up_from` and/or `down_to`",
                file=display, key=vkey, line=locate(text, vsn),
            )  # fmt: skip
        for direction in table:
            if direction not in DIRECTIONS:
                raise BuildError(
                    f"unknown key `{direction}`{_hint(direction, DIRECTIONS)}; "
                    "expected `up_from` or `down_to`",
                    file=display, key=vkey, line=locate(text, vsn, direction),
                )  # fmt: skip
        versions[vsn] = {
            direction: _direction(table[direction], text, display, vsn, direction)
            for direction in DIRECTIONS
            if direction in table
        }
    return AppDeclarations(app, display, versions)


def _direction(
    table: object, text: str, display: str, vsn: str, direction: str
) -> dict[str, tuple[Located, ...]]:
    dkey = f'tool.primes.app.upgrade."{vsn}".{direction}'
    if not isinstance(table, dict):
        raise BuildError(
            'must be a table of versions, e.g. `up_from."1" = [ { update = "mod" } ]`',
            file=display, key=dkey, line=locate(text, vsn, direction),
        )  # fmt: skip
    out: dict[str, tuple[Located, ...]] = {}
    for other, items in table.items():
        lkey = f'{dkey}."{other}"'
        if not isinstance(items, list):
            raise BuildError(
                "must be an array of instructions, e.g. `[ { update = \"mod\" } ]`",
                file=display, key=lkey, line=locate(text, vsn, direction, other),
            )  # fmt: skip
        found = []
        for i, item in enumerate(items):
            line = locate(text, vsn, direction, other, i)
            found.append(
                Located(_instruction(item, f"{lkey}[{i}]", display, line), f"{lkey}[{i}]", line)
            )
        out[other] = tuple(found)
    return out


def _instruction(item: object, key: str, display: str, line: int | None) -> hl.HighLevel:
    def bad(message: str) -> BuildError:
        return BuildError(message, file=display, key=key, line=line)

    if not isinstance(item, dict):
        raise bad('must be an inline table with one instruction, e.g. `{ update = "mod" }`')
    forms = [k for k in item if k in _FORMS]
    if len(forms) != 1:
        unknown = [k for k in item if k not in _FORMS and k not in ("extra", "timeout", "args")]
        if unknown:
            raise bad(f"unknown instruction `{unknown[0]}`{_hint(unknown[0], _FORMS)}")
        if not forms:
            raise bad(f"names no instruction; expected one of {', '.join(_FORMS)}")
        raise bad(f"names {len(forms)} instructions ({', '.join(forms)}); write one per table")
    form = forms[0]
    allowed = _OPTIONS.get(form, ())
    for k in item:
        if k != form and k not in allowed:
            options = f"; `{form}` takes {', '.join(f'`{o}`' for o in allowed)}" if allowed else ""
            raise bad(f"unknown key `{k}` for `{form}`{_hint(k, allowed)}{options}")
    target = item[form]
    if not isinstance(target, str):
        raise bad(f"`{form}` must be a string")
    match form:
        case "update":
            timeout = item.get("timeout", hl.DEFAULT_TIMEOUT)
            if isinstance(timeout, bool) or not isinstance(timeout, int | float):
                raise bad("`timeout` must be a number of seconds")
            if not (timeout > 0 and math.isfinite(timeout)):
                raise bad("`timeout` must be a positive number of seconds")
            extra = item.get("extra")
            if not _json_like(extra):
                raise bad("`extra` must be plain data (no dates or times, no inf/nan)")
            return hl.Update(_module(target, bad), extra, float(timeout))
        case "load_module":
            return hl.LoadModule(_module(target, bad))
        case "add_module":
            return hl.AddModule(_module(target, bad))
        case "delete_module":
            return hl.DeleteModule(_module(target, bad))
        case "add_application":
            return hl.AddApplication(_app(target, bad))
        case "remove_application":
            return hl.RemoveApplication(_app(target, bad))
        case "restart_application":
            return hl.RestartApplication(_app(target, bad))
        case _:  # apply
            module, sep, function = target.partition(":")
            if not sep or not _MODULE.match(module) or not function.isidentifier():
                raise bad(f'`apply` must be "module:function", not {target!r}')
            args = item.get("args", [])
            if not isinstance(args, list) or not _json_like(args):
                raise bad("`args` must be an array of plain data")
            return hl.Apply(module, function, tuple(args))


def _module(name: str, bad: Callable[[str], BuildError]) -> str:
    if not _MODULE.match(name):
        raise bad(f"{name!r} is not a dotted module name")
    return name


def _app(name: str, bad: Callable[[str], BuildError]) -> str:
    if not _APP.match(name):
        raise bad(f"{name!r} is not an app name")
    return name


def _json_like(value: object) -> bool:
    if isinstance(value, datetime.date | datetime.time):
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_json_like(v) for v in value)
    if isinstance(value, dict):
        return all(_json_like(v) for v in value.values())
    return True


def _hint(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean `{close[0]}`?" if close else ""


def _dig(data: Mapping[str, object], path: tuple[str, ...]) -> object:
    node: object = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
