"""Other Pythons on this machine (pyenv's, or on PATH), for tests of releases that name one."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def runs(program: str, version: str) -> bool:
    """Whether `program` is a Python `version` ("3.12") that starts."""
    try:
        done = subprocess.run(
            [program, "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.strip() == version


def find_python(version: str) -> Path | None:
    """A Python `version` interpreter: pyenv's newest of that minor, else pythonX.Y on PATH."""
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    found = sorted(Path(root, "versions").glob(f"{version}.*/bin/python{version}"))
    for candidate in reversed(found):
        if runs(str(candidate), version):
            return candidate
    on_path = shutil.which(f"python{version}")
    return Path(on_path) if on_path and runs(on_path, version) else None


def path_with(folder: Path, links: dict[str, Path]) -> str:
    """A PATH of `folder` (holding a symlink per name in `links`) then /usr/bin:/bin only."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, target in links.items():
        (folder / name).symlink_to(target)
    return f"{folder}:/usr/bin:/bin"
