"""Typed checks on TOML tables: unknown keys (with a did-you-mean), wrong types, missing keys."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from primes_build.project.tomlfile import TomlFile

_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "an array",
    dict: "a table",
}


def join(prefix: str, key: str) -> str:
    """`prefix.key`, quoting the key if it is not a bare TOML key."""
    bare = key and all(c.isalnum() or c in "_-" for c in key)
    part = key if bare else '"' + key.replace('"', '\\"') + '"'
    return f"{prefix}.{part}" if prefix else part


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean `x`?)' for the closest choice, or ''."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def check_keys(
    doc: TomlFile, table: Mapping[str, Any], prefix: str, allowed: Iterable[str]
) -> None:
    """Refuse any key of `table` (at `prefix`) not in `allowed`."""
    allowed = list(allowed)
    for key in table:
        if key not in allowed:
            hint = did_you_mean(key, allowed) or f" (allowed: {', '.join(sorted(allowed))})"
            raise doc.error(join(prefix, key), f"unknown key{hint}")


def type_name(kind: type) -> str:
    """How a TOML type is named in messages."""
    return _TYPE_NAMES.get(kind, kind.__name__)


def describe(value: object) -> str:
    """How a found value is named in messages."""
    for kind in (bool, int, float, str, list, dict):
        if isinstance(value, kind):
            return type_name(kind)
    return type(value).__name__


def is_kind(value: object, kind: type) -> bool:
    """TOML typing: bool is not an int; an int is fine where a number (float) is wanted."""
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def get(
    doc: TomlFile,
    table: Mapping[str, Any],
    prefix: str,
    key: str,
    kind: type,
    *,
    required: bool = False,
    default: Any = None,
) -> Any:
    """`table[key]` checked to be of `kind`; missing: `default`, or an error if `required`."""
    path = join(prefix, key)
    if key not in table:
        if required:
            raise doc.error(prefix or key, f"missing required key `{path}` ({type_name(kind)})")
        return default
    value = table[key]
    if not is_kind(value, kind):
        raise doc.error(path, f"must be {type_name(kind)}, not {describe(value)}")
    return float(value) if kind is float else value


def table_of(doc: TomlFile, table: Mapping[str, Any], prefix: str, key: str) -> dict[str, Any]:
    """`table[key]` as a table ({} when missing)."""
    value: dict[str, Any] = get(doc, table, prefix, key, dict, default={})
    return value
