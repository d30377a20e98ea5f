"""The node config: node.toml defaults (rel/ or packaged) under primes.toml [node], as TOML."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from primes_runtime.formats import FormatError, node_toml

from primes_build.errors import BuildError
from primes_build.project import overlay, schema, tomlfile
from primes_build.project.tomlfile import TomlFile

DEFAULTS_FILE = "node.toml"
SPECIAL_KEYS: dict[str, type] = {"name": str, "cookie": str, "python": str}


def load_defaults(root: Path) -> dict[str, Any]:
    """The [node] table of rel/node.toml, else primes-build's own (every node key, its default)."""
    source = overlay.resolve(root, DEFAULTS_FILE)
    doc = tomlfile.load(source.path, source.shown)
    schema.check_keys(doc, doc.data, "", ["node"])
    node = schema.table_of(doc, doc.data, "", "node")
    for key in SPECIAL_KEYS:
        if key in node:
            raise doc.error(f"node.{key}", "is set in primes.toml only; remove it here")
    return node


def check_node(doc: TomlFile, node: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
    """Check primes.toml's [node] (without `env`) against the defaults' keys and types."""
    allowed: dict[str, type] = {**SPECIAL_KEYS, **{k: type(v) for k, v in defaults.items()}}
    schema.check_keys(doc, node, "node", [*allowed, "env"])
    for key, kind in allowed.items():
        if key in node:
            wanted = float if kind is float else kind
            schema.get(doc, node, "node", key, wanted)


def merge(
    defaults: Mapping[str, Any], node: Mapping[str, Any], release_name: str
) -> dict[str, Any]:
    """The [node] table a release ships: defaults, then the name, then primes.toml's values."""
    merged: dict[str, Any] = {"name": release_name, **defaults}
    merged.update({k: v for k, v in node.items() if k != "env"})
    return merged


def render(node: Mapping[str, Any], env: Mapping[str, Mapping[str, Any]]) -> str:
    """releases/<vsn>/node.toml: [node] then one [env.<app>] table per app with overrides."""
    try:
        return node_toml.render(node, env)
    except FormatError as exc:
        raise BuildError(f"cannot write node.toml: {exc.message}") from None
