"""`releases/<vsn>/node.toml`, the node config: its defaults, a frozen dataclass, parse, render."""

from __future__ import annotations

import datetime
import json
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import FormatError
from .node_toml_lean import NAME as NAME  # the lean ping path reads node_toml_lean alone
from .node_toml_lean import path_for as path_for
from .unpack_limits import UnpackLimits as UnpackLimits

#: The one place the default is written; the build's rel/node.toml sets it for each release.
DEFAULT_SHUTDOWN_TIMEOUT = 10.0
#: Seconds an install stays on probation (docs/release-handling.md); 0 = none.
DEFAULT_PROBATION = 5.0

_NODE_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "cookie": str,
    "shutdown_timeout": (int, float),
    "probation": (int, float),
    "log_max_bytes": int,
    "log_backups": int,
    "python": str,
}


@dataclass(frozen=True)
class ControlLimits:
    """What the control channel allows a connection (node.toml [control])."""

    handshake_timeout: float = 10.0
    """Seconds, in total, a new connection has to prove the cookie."""
    max_pending: int = 32
    """Connections not yet logged in; past it the oldest such connection is closed."""
    idle_timeout: float = 3600.0
    """Seconds a logged-in connection may stay silent before the node closes it."""
    json_depth: int = 64
    """How deeply arrays and objects may nest in one frame."""
    reserved_fds: int = 64
    """File descriptors kept free for the node's own work: past it new connections are closed."""


@dataclass(frozen=True)
class AioLimits:
    """The node's event loop, where async processes run (node.toml [aio])."""

    block_threshold: float = 0.1
    """Seconds a callback may hold the loop without awaiting before it is logged, with where."""


def _parse_table(cls: type[Any], table: object, section: str, where: str) -> Any:
    """An instance of the limits dataclass `cls` from a TOML table; errors name file and key."""
    if not isinstance(table, Mapping):
        raise FormatError(f"[{section}] must be a table", file=where)
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        spec = known.get(key)
        if spec is None:
            names = ", ".join(sorted(known))
            raise FormatError(f"unknown key {section}.{key} (known: {names})", file=where)
        wants_float = isinstance(spec.default, float)
        number = _positive(value, wants_float)
        if number is None:
            kind = "number" if wants_float else "integer"
            raise FormatError(
                f"key {section}.{key} must be a positive {kind} ({value!r})", file=where
            )
        values[key] = number
    return cls(**values)


def _positive(value: object, wants_float: bool) -> int | float | None:
    """`value` as the setting's type if it is a positive number of that kind, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not wants_float:
        return None
    if not value > 0:
        return None
    return float(value) if wants_float else value


_TABLES = ("node", "env", "control", "unpack", "aio")


@dataclass(frozen=True)
class NodeConfig:
    """What node.toml says; every key has a default."""

    name: str = "node"
    cookie: str | None = None
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT
    probation: float = DEFAULT_PROBATION
    """Seconds the processes an install touched must run its code without a crash."""
    log_max_bytes: int = 10 * 1024 * 1024
    log_backups: int = 5
    python: str | None = None
    """The interpreter the start script runs: a command on PATH or an absolute path (unset:
    python3.<minor> for a release that names its interpreter, else python3)."""
    env: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # [env.<app>]
    control: ControlLimits = field(default_factory=ControlLimits)
    unpack: UnpackLimits = field(default_factory=UnpackLimits)
    aio: AioLimits = field(default_factory=AioLimits)


def parse(text: str, where: str = NAME) -> NodeConfig:
    """Check node.toml's text; errors name the file and the TOML key."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(f"not valid TOML ({exc})", file=where) from None
    for key in doc:
        if key not in _TABLES:
            raise FormatError(f"unknown table [{key}]{_hint(key, _TABLES)}", file=where)
    node = doc.get("node", {})
    if not isinstance(node, dict):
        raise FormatError("[node] must be a table", file=where)
    values: dict[str, Any] = {}
    for key, value in node.items():
        kind = _NODE_KEYS.get(key)
        if kind is None:
            raise FormatError(f"unknown key node.{key}{_hint(key, _NODE_KEYS)}", file=where)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise FormatError(f"key node.{key} has the wrong type ({value!r})", file=where)
        values[key] = value
    if values.get("python") == "":
        raise FormatError(
            "key node.python must name an interpreter (a command or a path)", file=where
        )
    if "shutdown_timeout" in values:
        values["shutdown_timeout"] = float(values["shutdown_timeout"])
    if values.get("shutdown_timeout", 1.0) <= 0:
        raise FormatError("key node.shutdown_timeout must be positive", file=where)
    if "probation" in values:
        values["probation"] = float(values["probation"])
        if not 0 <= values["probation"] < math.inf:
            raise FormatError(
                "key node.probation must be a number of seconds, 0 or more (0 = none)", file=where
            )
    env = doc.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, dict) for v in env.values()):
        raise FormatError("[env.<app>] entries must be tables of key = value", file=where)
    return NodeConfig(
        **values,
        env={app: dict(table) for app, table in env.items()},
        control=_parse_table(ControlLimits, doc.get("control", {}), "control", where),
        unpack=_parse_table(UnpackLimits, doc.get("unpack", {}), "unpack", where),
        aio=_parse_table(AioLimits, doc.get("aio", {}), "aio", where),
    )


def _hint(key: str, known: Iterable[str]) -> str:
    import difflib  # only for a key that is wrong: not on every reader's path

    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def render(node: Mapping[str, Any], env: Mapping[str, Mapping[str, Any]]) -> str:
    """node.toml text: a comment, [node], then one [env.<app>] table per app; refuses a result
    that parse() would not read back."""
    lines = [
        "# Node config, generated by primes_build from the node.toml defaults and primes.toml.",
        "",
    ]
    lines.append("[node]")
    lines.extend(f"{_key(k)} = {_value(v)}" for k, v in sorted(node.items()))
    if "cookie" not in node:
        lines.append("# cookie: unset, so the node generates its own at first start (run/cookie)")
    for app in sorted(env):
        lines += ["", f"[env.{_key(app)}]"]
        lines.extend(f"{_key(k)} = {_value(v)}" for k, v in sorted(env[app].items()))
    text = "\n".join(lines) + "\n"
    parse(text, NAME)
    return text


def _key(key: str) -> str:
    if key and all(c.isalnum() or c in "_-" for c in key) and key.isascii():
        return key
    return json.dumps(key)


def _value(value: object) -> str:
    """A TOML value (strings as JSON strings, which TOML basic strings accept)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in sorted(value.items()))
        return "{ " + inner + " }" if inner else "{}"
    raise FormatError(f"cannot write {type(value).__name__} value {value!r}", file=NAME)
