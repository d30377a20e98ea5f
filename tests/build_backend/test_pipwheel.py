"""Tests of primes_build.pipwheel: pip accepts the wheel, and its command unpacks the release."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from primes_build import buildapi


def test_pip_installs_the_wheel_and_its_command_unpacks_the_release(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(sample)
    wheel = tmp_path / "out" / buildapi.build_wheel(str(tmp_path / "out"))
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps"]
    subprocess.run([*pip, "--target", str(target), str(wheel)], check=True)
    assert (target / "sample_release" / "sample_1.tar.gz").is_file()
    assert (target / "bin" / "sample-release").is_file()
    env = {**os.environ, "PYTHONPATH": str(target)}
    node = tmp_path / "node"
    run = [sys.executable, "-m", "sample_release", str(node)]
    done = subprocess.run(run, env=env, capture_output=True, text=True, check=True)
    assert "unpacked sample_1.tar.gz" in done.stdout
    assert os.access(node / "bin" / "sample", os.X_OK)
    assert (node / "releases/1/release.json").is_file()
    again = subprocess.run(run, env=env, capture_output=True, text=True, check=False)
    assert again.returncode == 1 and again.stderr.startswith("ERROR ")
    assert "not an empty directory" in again.stderr


def test_two_wheels_of_the_same_sources_are_byte_identical(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(sample)
    one = tmp_path / "one" / buildapi.build_wheel(str(tmp_path / "one"))
    two = tmp_path / "two" / buildapi.build_wheel(str(tmp_path / "two"))
    assert one.read_bytes() == two.read_bytes()
