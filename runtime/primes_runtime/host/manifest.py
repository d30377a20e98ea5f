"""Read a tree's release manifest (releases/<vsn>/release.json) with the format layer."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ..formats import FormatError
from ..formats import manifest as fmt
from ..formats.manifest import FORMAT, AppSpec, LibrarySpec, Manifest, RuntimeSpec

__all__ = [
    "FORMAT",
    "AppSpec",
    "LibrarySpec",
    "Manifest",
    "RuntimeSpec",
    "load",
    "parse",
    "path_of",
]


def path_of(root: Path, version: str) -> Path:
    """Where a release's manifest lives in a tree."""
    return root / fmt.path_for(version)


def load(root: Path, version: str) -> Manifest:
    """Read and check releases/<version>/release.json of the tree at ``root``."""
    path = path_of(root, version)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; is release {version} unpacked?") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read the manifest ({exc}); rebuild the release"
        ) from None
    try:
        return fmt.loads(text, str(path))
    except FormatError as exc:
        raise ConfigError(str(exc)) from None


def parse(data: object, where: str = "release.json") -> Manifest:
    """Check a decoded manifest; errors name the file and the key."""
    try:
        return fmt.parse(data, where)
    except FormatError as exc:
        raise ConfigError(str(exc)) from None
