"""Which primes-runtime a release ships: primes.toml's [runtime] project, else the installed one."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

from primes_build.errors import BuildError
from primes_build.project.config import Source
from primes_build.wheels.install import Installed

DIST = "primes-runtime"
KEPT_DIST_INFO = ("METADATA", "WHEEL", "top_level.txt")
"""The installed .dist-info files a code dir keeps (the rest is the installer's bookkeeping)."""


@dataclass(frozen=True)
class InstalledRuntime:
    """The primes-runtime of the build environment: its files, or its checkout when editable."""

    version: str
    installed: Installed | None
    """Its files, for a regular install."""
    checkout: Source | None
    """Its project directory, for an editable install (`pip install -e runtime`)."""


def installed_runtime(path: list[str] | None = None) -> InstalledRuntime:
    """The primes-runtime installed next to primes-build (its `primes-runtime==<vsn>`).

    `path` is where to look (default sys.path).
    """
    found = list(metadata.distributions(name=DIST, path=path if path is not None else sys.path))
    if not found:
        raise BuildError(
            f"{DIST} is not installed in the build environment; install primes-build with its "
            'dependencies, or name a runtime project in primes.toml: [runtime] path = "..."',
            file="primes.toml",
        )
    dist = found[0]
    version = dist.version
    checkout = _editable_checkout(dist)
    if checkout is not None:
        source = Source(key="runtime", name="", path=str(checkout), directory=checkout)
        return InstalledRuntime(version=version, installed=None, checkout=source)
    files: dict[str, bytes] = {}
    for entry in dist.files or []:
        parts = entry.parts
        if not parts or parts[0] == ".." or "__pycache__" in parts or entry.suffix == ".pyc":
            continue
        if parts[0].endswith(".dist-info") and entry.name not in KEPT_DIST_INFO:
            continue
        located = Path(str(dist.locate_file(entry)))
        if located.is_file():
            files[entry.as_posix()] = located.read_bytes()
    if not any(name.startswith("primes_runtime/") for name in files):
        raise BuildError(f"the installed {DIST} {version} has no primes_runtime package files")
    installed = Installed(name="primes_runtime", version=version, files=dict(sorted(files.items())))
    return InstalledRuntime(version=version, installed=installed, checkout=None)


def _editable_checkout(dist: metadata.Distribution) -> Path | None:
    """The project directory of an editable install (PEP 610 direct_url.json), else None."""
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not data.get("dir_info", {}).get("editable"):
        return None
    url = urlparse(str(data.get("url", "")))
    if url.scheme != "file":
        return None
    directory = Path(unquote(url.path))
    return directory if (directory / "pyproject.toml").is_file() else None
