"""The backend builds this repository the default way (sdist, then wheel, isolated)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.build_backend.helpers import REPO

pytestmark = pytest.mark.e2e


def test_python_m_build_on_this_repository_gives_a_runnable_tree(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    command = [sys.executable, "-m", "build", "--outdir", str(out)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    packages = sorted(out.glob("primenode_*.tar.gz"))
    assert len(packages) == 1
    node = tmp_path / "node"
    node.mkdir()
    with tarfile.open(packages[0], mode="r:gz") as tar:
        tar.extractall(node, filter="data")
    assert os.access(node / "bin" / "primenode", os.X_OK)
    (sums,) = node.glob("releases/*/SHA256SUMS")
    for line in sums.read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((node / name).read_bytes()).hexdigest() == digest, name
    assert len(list(out.glob("primenode-*.tar.gz"))) == 1
    assert len(list(out.glob("primenode-*-py3-none-any.whl"))) == 1
