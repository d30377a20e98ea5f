"""Tests of primes_build.project.tomlfile: syntax errors with their line; finding a key's line."""

from __future__ import annotations

from pathlib import Path

import pytest
from primes_build.errors import BuildError
from primes_build.project import tomlfile

TEXT = """\
[release]
name = "x"

[apps.alpha]
path = "apps/alpha"

[node.env.alpha]
level = 1
"""


def test_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "primes.toml"
    path.write_text('[release]\nname = "x"\nversion = "1\n')
    with pytest.raises(BuildError) as caught:
        tomlfile.load(path, "primes.toml")
    assert str(caught.value).startswith("primes.toml:3: TOML syntax error")
    assert caught.value.line == 3


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"primes\.toml: file not found"):
        tomlfile.load(tmp_path / "primes.toml", "primes.toml")


def test_line_of_finds_keys_in_tables_and_table_headers() -> None:
    assert tomlfile.line_of(TEXT, "release.name") == 2
    assert tomlfile.line_of(TEXT, "apps.alpha") == 4
    assert tomlfile.line_of(TEXT, "apps.alpha.path") == 5
    assert tomlfile.line_of(TEXT, "node.env.alpha.level") == 8


def test_line_of_falls_back_to_the_closest_parent() -> None:
    assert tomlfile.line_of(TEXT, "apps.alpha.nothing") == 4
    assert tomlfile.line_of(TEXT, "elsewhere") is None
