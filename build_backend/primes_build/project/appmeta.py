"""An app's pyproject.toml: its [project] name and [tool.primes.app] table (docs/app-config.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from primes_build.project import schema, tomlfile
from primes_build.project.config import Source
from primes_build.project.tomlfile import TomlFile
from primes_build.upgrade import declare

APP_KEYS = ["description", "start", "stop", "needs", "env", "upgrade"]
_FUNCTION = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"
)


@dataclass(frozen=True)
class AppMeta:
    """What the manifest takes from an app's pyproject.toml."""

    name: str
    description: str
    start: str
    stop: str | None
    needs: tuple[str, ...]
    env: Mapping[str, Any]
    doc: TomlFile
    """The parsed pyproject.toml, for messages pointing into it."""


def dist_name(name: str) -> str:
    """The app name of a project name: normalised, `-` and `.` become `_`."""
    return re.sub(r"[-_.]+", "_", name).lower()


def read_project_name(source: Source) -> tuple[TomlFile, str]:
    """The parsed pyproject.toml of a source and its project name as an app name."""
    shown = f"{source.path}/pyproject.toml"
    doc = tomlfile.load(source.directory / "pyproject.toml", shown)
    project = schema.table_of(doc, doc.data, "", "project")
    name = schema.get(doc, project, "project", "name", str, required=True)
    return doc, dist_name(name)


def read_app(source: Source) -> AppMeta:
    """Read and check an app's [project] name and [tool.primes.app] table."""
    doc, name = read_project_name(source)
    if name != source.name:
        raise doc.error(
            "project.name",
            f"the project is app `{name}` but primes.toml lists it as `{source.name}` "
            f"(key `{source.key}`); make the two agree",
        )
    project = schema.table_of(doc, doc.data, "", "project")
    tool = schema.table_of(doc, doc.data, "", "tool")
    primes = schema.table_of(doc, tool, "tool", "primes")
    if "app" not in primes:
        raise doc.error("tool", "missing the [tool.primes.app] table (at least `start`)")
    table = schema.table_of(doc, primes, "tool.primes", "app")
    at = "tool.primes.app"
    schema.check_keys(doc, table, at, APP_KEYS)
    fallback = schema.get(doc, project, "project", "description", str, default="")
    description = schema.get(doc, table, at, "description", str, default=fallback)
    start = _function(doc, at, "start", schema.get(doc, table, at, "start", str, required=True))
    stop_value = schema.get(doc, table, at, "stop", str)
    stop = _function(doc, at, "stop", stop_value) if stop_value is not None else None
    needs = schema.get(doc, table, at, "needs", list, default=[])
    for index, need in enumerate(needs):
        if not isinstance(need, str):
            raise doc.error(f"{at}.needs", f"item {index + 1} must be an app name (a string)")
    env = schema.table_of(doc, table, at, "env")
    schema.table_of(doc, table, at, "upgrade")
    declare.parse_declarations(name, doc.data, doc.text, doc.shown)  # refused now, not at use
    return AppMeta(
        name=name,
        description=description,
        start=start,
        stop=stop,
        needs=tuple(needs),
        env=env,
        doc=doc,
    )


def _function(doc: TomlFile, at: str, key: str, value: str) -> str:
    if not _FUNCTION.match(value):
        raise doc.error(
            f"{at}.{key}", f'{value!r} must be "module:function" (e.g. "prime_miner.app:start")'
        )
    return value
