"""examples/ratelimiter/README.md: its download command fetches what the lock locks, and its
version 2 steps work on a copy, leaving the repository's version 1 as it is."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tools.asgi_example import EXAMPLE, pins, readme_download

pytestmark = pytest.mark.e2e

README = EXAMPLE / "README.md"


def test_the_readme_downloads_exactly_the_locked_wheels() -> None:
    words = readme_download()
    assert words[:5] == ["download", "--no-deps", "--only-binary", ":all:", "-d"]
    assert sorted(w for w in words if "==" in w) == sorted(pins())


def test_the_version_2_steps_run_in_a_copy_and_leave_version_1_in_the_repository(
    tmp_path: Path,
) -> None:
    text = README.read_text(encoding="utf-8")
    _, _, rest = text.partition("cp -rL examples/ratelimiter ")
    assert rest, "the README copies the example before changing it"
    target = rest.split()[0]
    steps = text[text.index("## Version 2") :]
    commands = re.findall(r"^(cp v2/\S+ v2/\S+ \S+|sed -i .*)$", steps, flags=re.M)
    assert len(commands) == 2, commands
    work = tmp_path / Path(target).name
    subprocess.run(["cp", "-rL", str(EXAMPLE), str(work)], check=True)
    before = {p: p.read_bytes() for p in EXAMPLE.rglob("*.py") if p.is_file()}
    for command in commands:
        subprocess.run(command, shell=True, cwd=work, check=True)
    limiter = work / "apps" / "limiter"
    assert (limiter / "limiter" / "web.py").read_bytes() == (EXAMPLE / "v2" / "web.py").read_bytes()
    assert 'version = "2"' in (work / "primes.toml").read_text(encoding="utf-8")
    assert 'version = "2"' in (limiter / "pyproject.toml").read_text(encoding="utf-8")
    assert {p: p.read_bytes() for p in EXAMPLE.rglob("*.py") if p.is_file()} == before
    assert 'version = "1"' in (EXAMPLE / "primes.toml").read_text(encoding="utf-8")
