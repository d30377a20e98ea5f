"""A user's world outside this repository, shared by the e2e tests that build their own service.

The primes-build and primes-runtime wheels are built into a local directory that serves as the
only package index (PIP_NO_INDEX with PIP_FIND_LINKS); the few third-party wheels they need are
put there first with `pip download` (from pip's cache when it has them), or copied from a
wheelhouse that holds them (the library corpus keeps one in its cache dir, so that it runs
offline). `shared_world` makes it once per pytest run, whichever xdist worker asks first, and
every test of the run (the `world` fixture of tests/e2e/conftest.py, the corpus) uses that one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.runonce import once

REPO = Path(__file__).resolve().parents[2]
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
THIRD_PARTY = (
    "installer>=0.7",
    "packaging>=24.2",
    "jinja2>=3.1",
    "setuptools>=68",
    "build>=1.2",
    "pyproject_hooks>=1.0",
    "pytest>=8",
)
"""What primes-build depends on, the `build` frontend a user runs (with what it needs), and
pytest, for the app's own tests."""

UV = "uv==0.13.8"
"""primes-build's `lock` extra: what `primes lock` runs (docs/build.md)."""

CACHE = Path(os.environ.get("PRIMES_CORPUS_CACHE", "~/.cache/primes-corpus")).expanduser()
"""Where wheels fetched once from PyPI are kept (outside the repository), so that the tests
that need them run offline afterwards."""


@dataclass(frozen=True)
class World:
    """The local index, a user's venv with primes-build installed, and the environment."""

    index: Path
    venv: Path
    env: dict[str, str]
    built: tuple[Path, ...]
    """primes-build's and primes-runtime's own sdists and wheels."""

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name


def run(argv: Sequence[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run one command; its stdout, or a failure showing what it printed."""
    done = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{argv} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
    return done.stdout


def download(requirements: Sequence[str], into: Path, cwd: Path) -> None:
    """`pip download` binary wheels of `requirements` (and what they need) into `into`."""
    argv = [sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:"]
    env = {k: v for k, v in os.environ.items() if k not in ("PIP_NO_INDEX", "PIP_FIND_LINKS")}
    run([*argv, "-d", into, *requirements], cwd=cwd, env=env)


def make_world(top: Path, wheelhouse: Path | None = None, lock: bool = False) -> World:
    """Build the two wheels into a local index under `top` and install primes-build from it
    into a venv there (with its `lock` extra, uv, when `lock`).

    The third-party wheels come from `wheelhouse` when given (it must hold them all), else
    from `pip download`.
    """
    index = top / "index"
    built = top / "built"
    for project in ("build_backend", "runtime"):
        source = top / "src" / project
        shutil.copytree(REPO / project, source, ignore=IGNORED)
        run([sys.executable, "-m", "build", "--no-isolation", "-o", built, source], cwd=top)
    index.mkdir()
    for wheel in built.glob("*.whl"):
        shutil.copy(wheel, index)
    if wheelhouse is None:
        download([*THIRD_PARTY, *([UV] if lock else [])], index, top)
    else:
        for wheel in wheelhouse.glob("*.whl"):
            shutil.copy(wheel, index)
    env = world_env(index)
    venv = top / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=top, env=env)
    wanted = "primes-build[lock]" if lock else "primes-build"
    pip = [venv / "bin/python", "-m", "pip", "install", "-q"]
    run([*pip, wanted, "build"], cwd=top, env=env)
    return open_world(top)


def world_env(index: Path) -> dict[str, str]:
    """This process's environment with the local index as pip's only one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "VIRTUAL"))}
    env.update(
        {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(index), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    )
    return env


def open_world(top: Path) -> World:
    """The world `make_world` made under `top`."""
    index = top / "index"
    built = tuple(sorted((top / "built").iterdir()))
    return World(index=index, venv=top / "venv", env=world_env(index), built=built)


def shared_world(factory: pytest.TempPathFactory) -> World:
    """The run's one world, with primes-build's `lock` extra, offline from the tools'
    wheelhouse (made by the first test that asks; about 8 s of CPU)."""

    def make(top: Path) -> None:
        make_world(top, wheelhouse=tools_wheelhouse(top), lock=True)

    return open_world(once(factory, "world", make))


def cached(name: str, requirements: Sequence[Sequence[str]], top: Path) -> Path:
    """CACHE/<name>: the binary wheels of each requirement list (one `pip download` each),
    downloaded once; it appears whole or not at all (written aside, then renamed)."""
    folder = CACHE / name
    if folder.is_dir():
        return folder
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=CACHE))
    try:
        for wanted in requirements:
            download(wanted, partial, top)
        try:
            partial.rename(folder)
        except OSError:  # another run got there first
            if not folder.is_dir():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return folder


def tools_wheelhouse(top: Path) -> Path:
    """What primes-build (with its lock extra) needs, cached under a name of its pins."""
    wanted = (*THIRD_PARTY, UV)
    digest = hashlib.sha256("\n".join(wanted).encode()).hexdigest()[:12]
    return cached(f"tools-{digest}", [wanted], top)
