"""Tests of primes_build.dists.pipwheel: pip accepts the wheel; its command unpacks the release."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import subprocess
import sys
import zipfile
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


def test_the_wheel_s_record_lists_every_file_with_its_sha256_and_size(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(sample)
    wheel = tmp_path / "out" / buildapi.build_wheel(str(tmp_path / "out"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (record_name,) = [n for n in names if n.endswith(".dist-info/RECORD")]
        rows = list(csv.reader(io.StringIO(zf.read(record_name).decode())))
        assert names[-1] == record_name
        assert sorted(row[0] for row in rows) == sorted(names)
        for path, digest, size in rows:
            if path == record_name:
                assert (digest, size) == ("", "")
                continue
            data = zf.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == f"sha256={expected.decode()}", path
            assert size == str(len(data)), path


def test_the_wheel_s_unpacker_checks_sums_with_the_format_layer_it_ships(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(sample)
    wheel = tmp_path / "out" / buildapi.build_wheel(str(tmp_path / "out"))
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    assert (target / "sample_release" / "_formats" / "sha256sums.py").is_file()
    # -S: no site-packages, so the runtime installed in this venv cannot stand in for it.
    run = [sys.executable, "-S", "-m", "sample_release", str(tmp_path / "node")]
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(run, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "node" / "releases" / "1" / "SHA256SUMS").is_file()
