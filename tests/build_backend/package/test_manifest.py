"""Tests of primes_build.package.manifest: compiled extension modules listed with their hashes."""

from __future__ import annotations

import hashlib
import importlib.machinery
import io
import json
import tarfile
from pathlib import Path

from primes_build.package.release import build_release

# e.g. fastbit.cpython-311-x86_64-linux-gnu.so: this Python's own most specific suffix
SO = "fastbit" + importlib.machinery.EXTENSION_SUFFIXES[0]
BYTES = b"\x7fELF not really a compiled extension"


def test_the_manifest_lists_an_app_extension_and_empty_ones_elsewhere(
    sample: Path, tmp_path: Path
) -> None:
    (sample / "apps/alpha/alpha" / SO).write_bytes(BYTES)
    pyproject = sample / "apps/alpha/pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.setuptools.package-data]\nalpha = ["*.so"]\n'
    )
    built = build_release(sample, tmp_path / "out", (), lambda line: None)
    with tarfile.open(built.path, mode="r:gz") as tar:
        member = tar.extractfile("releases/1/release.json") or io.BytesIO()
        manifest = json.loads(member.read())
    alpha, beta = manifest["apps"]
    assert alpha["extensions"] == {"alpha.fastbit": hashlib.sha256(BYTES).hexdigest()}
    assert "alpha.fastbit" not in alpha["modules"]
    assert beta["extensions"] == {}
    assert manifest["runtime"]["extensions"] == {}
