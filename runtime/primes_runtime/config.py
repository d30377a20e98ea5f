"""The node config (releases/<vsn>/node.toml, docs/formats.md) as a frozen dataclass."""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .limits import ControlLimits, UnpackLimits, parse_table

_NODE_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "cookie": str,
    "shutdown_timeout": (int, float),
    "log_max_bytes": int,
    "log_backups": int,
}

_TABLES = ("node", "env", "control", "unpack")


@dataclass(frozen=True)
class NodeConfig:
    """What node.toml says; every key has a default."""

    name: str = "primenode"
    cookie: str | None = None
    shutdown_timeout: float = 10.0
    log_max_bytes: int = 10 * 1024 * 1024
    log_backups: int = 5
    env: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # [env.<app>]
    control: ControlLimits = field(default_factory=ControlLimits)
    unpack: UnpackLimits = field(default_factory=UnpackLimits)


def path_of(root: Path, version: str) -> Path:
    """Where a release's node config lives in a tree."""
    return root / "releases" / version / "node.toml"


def load(root: Path, version: str) -> NodeConfig:
    """Read releases/<version>/node.toml (a missing file means all defaults)."""
    path = path_of(root, version)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return NodeConfig()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the node config ({exc})") from None
    return parse(text, str(path))


def parse(text: str, where: str = "node.toml") -> NodeConfig:
    """Check node.toml's text; errors name the file and the TOML key."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc})") from None
    for key in doc:
        if key not in _TABLES:
            raise ConfigError(f"{where}: unknown table [{key}]{_hint(key, _TABLES)}")
    node = doc.get("node", {})
    if not isinstance(node, dict):
        raise ConfigError(f"{where}: [node] must be a table")
    values: dict[str, Any] = {}
    for key, value in node.items():
        kind = _NODE_KEYS.get(key)
        if kind is None:
            raise ConfigError(f"{where}: unknown key node.{key}{_hint(key, _NODE_KEYS)}")
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ConfigError(f"{where}: key node.{key} has the wrong type ({value!r})")
        values[key] = value
    if "shutdown_timeout" in values:
        values["shutdown_timeout"] = float(values["shutdown_timeout"])
    if values.get("shutdown_timeout", 1.0) <= 0:
        raise ConfigError(f"{where}: key node.shutdown_timeout must be positive")
    env = doc.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, dict) for v in env.values()):
        raise ConfigError(f"{where}: [env.<app>] entries must be tables of key = value")
    control = parse_table(ControlLimits, doc.get("control", {}), "control", where)
    unpack = parse_table(UnpackLimits, doc.get("unpack", {}), "unpack", where)
    return NodeConfig(
        **values,
        env={app: dict(table) for app, table in env.items()},
        control=control,
        unpack=unpack,
    )


def _hint(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
