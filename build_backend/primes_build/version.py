"""primes-build's own version: from its installed metadata, else from the checkout's pyproject."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

DIST = "primes-build"
CHECKOUT_PYPROJECT = Path(__file__).parents[1] / "pyproject.toml"


def primes_build_version() -> str:
    """The version of the running primes-build (a source checkout reads build_backend/pyproject)."""
    try:
        return metadata.version(DIST)
    except metadata.PackageNotFoundError:
        pass
    data = tomllib.loads(CHECKOUT_PYPROJECT.read_text(encoding="utf-8"))
    return str(data["project"]["version"])
