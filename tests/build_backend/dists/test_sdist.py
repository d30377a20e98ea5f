"""Tests of primes_build.dists.sdist: what the sdist carries, and that it is reproducible."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from primes_build import buildapi


def sdist_names(sample: Path, outdir: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(sample)
    name = buildapi.build_sdist(str(outdir))
    assert name == "sample-1.tar.gz"
    with tarfile.open(outdir / name, mode="r:gz") as tar:
        return tar.getnames()


def test_sdist_carries_everything_the_wheel_build_needs(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = sdist_names(sample, tmp_path / "out", monkeypatch)
    for needed in [
        "sample-1/PKG-INFO",
        "sample-1/pyproject.toml",
        "sample-1/primes.toml",
        "sample-1/README.md",
        "sample-1/rel/node.toml",
        "sample-1/rel/templates/start.sh.j2",
        "sample-1/runtime/pyproject.toml",
        "sample-1/apps/alpha/alpha/app.py",
        "sample-1/build_backend/primes_build/buildapi.py",
    ]:
        assert needed in names, needed


def test_sdist_skips_caches_and_build_output(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (sample / "apps/alpha/alpha/__pycache__").mkdir()
    (sample / "apps/alpha/alpha/__pycache__/app.cpython-311.pyc").write_bytes(b"x")
    (sample / "apps/alpha/build/lib").mkdir(parents=True)
    (sample / "apps/alpha/build/lib/stale.py").write_text("")
    (sample / "apps/alpha/alpha.egg-info").mkdir()
    names = sdist_names(sample, tmp_path / "out", monkeypatch)
    assert not [n for n in names if "__pycache__" in n or "/build/" in n or "egg-info" in n]


def test_two_sdists_of_the_same_sources_are_byte_identical(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sdist_names(sample, tmp_path / "one", monkeypatch)
    sdist_names(sample, tmp_path / "two", monkeypatch)
    one = (tmp_path / "one/sample-1.tar.gz").read_bytes()
    assert one == (tmp_path / "two/sample-1.tar.gz").read_bytes()
