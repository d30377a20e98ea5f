"""Tests of tools/demo.py (`make demo`) that need no build: where its story starts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools import demo, story


def version_line(path: Path) -> str:
    match = re.search(r'^version = "([^"]*)"$', path.read_text(encoding="utf-8"), re.M)
    assert match is not None, path
    return match.group(1)


def test_the_demo_starts_at_release_1_even_after_a_bump_by_hand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    for name in story.SOURCE_DIRS:
        (repo / name).mkdir(parents=True)
    (repo / "apps" / "prime_miner").mkdir(parents=True)
    (repo / "primes.toml").write_text('[release]\nname = "primenode"\nversion = "2"\n')
    (repo / "apps" / "prime_miner" / "pyproject.toml").write_text(
        '[project]\nname = "prime_miner"\nversion = "2"\n'
    )
    monkeypatch.setattr(story, "REPO", repo)
    src = tmp_path / "src"
    demo.copy_at_release_1(src)
    assert version_line(src / "primes.toml") == "1"
    assert version_line(src / "apps" / "prime_miner" / "pyproject.toml") == "1"
    assert version_line(repo / "primes.toml") == "2"  # the user's files stay untouched
