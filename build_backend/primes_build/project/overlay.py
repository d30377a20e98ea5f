"""Release files a project may override: its rel/<file> if present, else primes-build's own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

OVERLAY_DIR = "rel"
DEFAULTS = Path(__file__).with_name("defaults")


@dataclass(frozen=True)
class Resolved:
    """Where one release file comes from."""

    path: Path
    """The file to read."""
    shown: str
    """How messages name it: `rel/node.toml`, or `primes-build default node.toml`."""
    overridden: bool
    """Whether the project's rel/ provides it."""


def resolve(root: Path, name: str) -> Resolved:
    """The project's rel/<name> if it exists (relx-style overlay), else the packaged default."""
    own = root / OVERLAY_DIR / name
    if own.is_file():
        return Resolved(path=own, shown=f"{OVERLAY_DIR}/{name}", overridden=True)
    return Resolved(path=DEFAULTS / name, shown=f"primes-build default {name}", overridden=False)
