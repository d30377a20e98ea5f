"""Read a tree's node config (releases/<vsn>/node.toml) with the format layer."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ..formats import FormatError
from ..formats import node_toml as fmt
from ..formats.node_toml import NodeConfig

__all__ = ["NodeConfig", "load", "parse", "path_of"]


def path_of(root: Path, version: str) -> Path:
    """Where a release's node config lives in a tree."""
    return root / fmt.path_for(version)


def load(root: Path, version: str) -> NodeConfig:
    """Read releases/<version>/node.toml (a missing file means all defaults)."""
    path = path_of(root, version)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return NodeConfig()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the node config ({exc})") from None
    return parse(text, str(path))


def parse(text: str, where: str = "node.toml") -> NodeConfig:
    """Check node.toml's text; errors name the file and the TOML key."""
    try:
        return fmt.parse(text, where)
    except FormatError as exc:
        raise ConfigError(str(exc)) from None
