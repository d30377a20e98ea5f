"""The seed story's steps, each one a real command a user types (build, tar, bin/primenode)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("apps", "build_backend", "runtime")
SOURCE_FILES = ("pyproject.toml", "primes.toml", "README.md")
IGNORED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "*.egg-info", "build", "dist", ".venv", ".pytest_cache"
)


class StoryError(Exception):
    """A step of the story failed; str() says which command and what it printed."""


@dataclass(frozen=True)
class Result:
    """What one command did."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def copy_sources(dest: Path) -> Path:
    """Copy the release's sources (never the user's working files in place) into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in SOURCE_DIRS:
        shutil.copytree(REPO / name, dest / name, ignore=IGNORED, dirs_exist_ok=True)
    for name in SOURCE_FILES:
        if (REPO / name).exists():
            shutil.copy2(REPO / name, dest / name)
    return dest


def set_version(path: Path, version: str) -> None:
    """Rewrite the first `version = "..."` line of a TOML file: the seed's version bump."""
    text = path.read_text(encoding="utf-8")
    new, count = re.subn(
        r'^version = "[^"]*"$', f'version = "{version}"', text, count=1, flags=re.M
    )
    if count != 1:
        raise StoryError(f'{path}: no line `version = "..."` to bump')
    path.write_text(new, encoding="utf-8")


def bump(src: Path, release: str, app: str = "prime_miner", app_version: str | None = None) -> None:
    """Bump the release version in primes.toml and one app's version in its pyproject.toml."""
    set_version(src / "primes.toml", release)
    set_version(src / "apps" / app / "pyproject.toml", app_version or release)


def run(
    argv: list[str], *, cwd: Path | None = None, check: bool = True, timeout: float = 900
) -> Result:
    """Run one command, capture what it prints; raise StoryError if it fails and `check`."""
    proc = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    result = Result(tuple(argv), proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-15:]
        raise StoryError(f"`{' '.join(argv)}` exited {proc.returncode}:\n" + "\n".join(tail))
    return result


def build(src: Path, outdir: Path, *extra: str) -> Path:
    """`python -m build` (default isolated sdist->wheel route) into outdir; the package path."""
    run([sys.executable, "-m", "build", "--outdir", str(outdir), *extra, str(src)], cwd=src)
    version = _release_version(src)
    package = outdir / f"primenode_{version}.tar.gz"
    if not package.is_file():
        raise StoryError(f"python -m build wrote no {package.name} into {outdir}")
    return package


def _release_version(src: Path) -> str:
    match = re.search(r'^version = "([^"]*)"$', (src / "primes.toml").read_text(), flags=re.M)
    if match is None:
        raise StoryError(f"{src / 'primes.toml'}: no release version")
    return match.group(1)


def deploy(package: Path, root: Path) -> Path:
    """`mkdir -p ROOT && tar -xzf PACKAGE -C ROOT`; the start script's path."""
    root.mkdir(parents=True, exist_ok=True)
    tar = shutil.which("tar")
    if tar is not None:
        run([tar, "-xzf", str(package), "-C", str(root)])
    else:  # pragma: no cover - every POSIX machine has tar
        with tarfile.open(package) as archive:
            archive.extractall(root, filter="data")
    return root / "bin" / "primenode"


def primenode(root: Path, *args: str, check: bool = True, timeout: float = 120) -> Result:
    """`ROOT/bin/primenode ARGS...`, from a neutral working directory."""
    env_cwd = Path(os.sep)
    return run([str(root / "bin" / "primenode"), *args], cwd=env_cwd, check=check, timeout=timeout)
