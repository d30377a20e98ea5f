"""Tests of primes_build.wheels.wheelbuild: an app with a backend not installed here (flit_core)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

from primes_build.package.release import build_release
from primes_build.wheels.wheelbuild import needs_isolation

from tests.build_backend.helpers import SAMPLES


def add_flit_app(project: Path) -> None:
    """samples/flit_app as the project's app `zeta` (it needs alpha)."""
    shutil.copytree(SAMPLES / "flit_app", project / "apps" / "zeta")
    with (project / "primes.toml").open("a") as toml:
        toml.write('\n[apps.zeta]\npath = "apps/zeta"\n')


def test_an_uninstalled_backend_needs_isolation_and_setuptools_does_not(sample: Path) -> None:
    add_flit_app(sample)
    assert needs_isolation(sample / "apps" / "zeta")
    assert not needs_isolation(sample / "apps" / "alpha")


def test_an_app_with_another_backend_is_built_in_an_isolated_env_into_the_release(
    sample: Path, tmp_path: Path
) -> None:
    add_flit_app(sample)
    lines: list[str] = []
    built = build_release(sample, tmp_path / "out", (), lines.append)
    # flit_core is not in the dev venv, so the build must have made an env and installed it.
    assert "==> zeta 1 (wheel, isolated build env)" in lines, lines
    with tarfile.open(built.path, mode="r:gz") as tar:
        files = {
            m.name: (tar.extractfile(m) or io.BytesIO()).read()
            for m in tar.getmembers()
            if m.isfile()
        }
    assert "lib/zeta-1/zeta/__init__.py" in files and "lib/zeta-1/zeta/app.py" in files
    manifest = json.loads(files["releases/1/release.json"])
    assert [a["name"] for a in manifest["apps"]] == ["alpha", "beta", "zeta"]
    zeta = manifest["apps"][2]
    assert zeta["path"] == "lib/zeta-1" and zeta["start"] == "zeta.app:start"
    assert zeta["modules"] == {
        "zeta": hashlib.sha256(files["lib/zeta-1/zeta/__init__.py"]).hexdigest(),
        "zeta.app": hashlib.sha256(files["lib/zeta-1/zeta/app.py"]).hexdigest(),
    }
