"""Helpers for the build backend's tests: copies of the small sample projects."""

from __future__ import annotations

import shutil
from pathlib import Path

HERE = Path(__file__).parent
SAMPLES = HERE / "samples"
REPO = HERE.parents[1]


def copy_sample(target: Path, name: str = "minimal") -> Path:
    """A fresh copy of a sample project, with the backend and the format layer it imports
    copied in (its backend-path: build_backend, format_layer)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    shutil.copytree(SAMPLES / name, target, ignore=ignore)
    shutil.copytree(REPO / "build_backend", target / "build_backend", ignore=ignore)
    layer = target / "format_layer" / "primes_runtime"
    shutil.copytree(
        REPO / "runtime" / "primes_runtime" / "formats", layer / "formats", ignore=ignore
    )
    (layer / "__init__.py").write_text('"""Only the format layer, for the build backend."""\n')
    return target


def use_broken(project: Path, name: str) -> None:
    """Replace the project's primes.toml with samples/broken/<name>.toml."""
    shutil.copyfile(SAMPLES / "broken" / f"{name}.toml", project / "primes.toml")


def set_version(path: Path, version: str) -> None:
    """Rewrite the `version = "..."` line of a TOML file (primes.toml or a pyproject.toml)."""
    lines = path.read_text().splitlines()
    lines = [f'version = "{version}"' if ln.startswith("version = ") else ln for ln in lines]
    path.write_text("\n".join(lines) + "\n")
