"""What the backend writes, and primes-build's own distribution, pass the ecosystem's checkers."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from primes_build import buildapi

from tests.build_backend.helpers import REPO

IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")


def check(*argv: str | Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", *map(str, argv)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_pkg_info_spells_the_core_metadata_fields_as_other_backends_do(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(sample)
    name = buildapi.build_sdist(str(tmp_path))
    with tarfile.open(tmp_path / name) as tar:
        member = tar.extractfile("sample-1/PKG-INFO")
        assert member is not None
        head = member.read().decode().splitlines()[:4]
    assert head == [
        "Metadata-Version: 2.4",
        "Name: sample",
        "Version: 1",
        "Summary: A tiny release for the build backend's tests.",
    ]


def test_the_release_sdist_and_wheel_pass_twine_check(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(sample)
    sdist = tmp_path / buildapi.build_sdist(str(tmp_path))
    wheel = tmp_path / buildapi.build_wheel(str(tmp_path))
    check("twine", "check", "--strict", sdist, wheel)


def test_this_repositorys_pyproject_files_pass_validate_pyproject() -> None:
    files = [REPO / "pyproject.toml", REPO / "build_backend/pyproject.toml"]
    files += [REPO / "runtime/pyproject.toml", *sorted(REPO.glob("apps/*/pyproject.toml"))]
    check("validate_pyproject", *files)


@pytest.fixture(scope="module")
def primes_build_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """primes-build's sdist and wheel, built from this repository once for this module."""
    top = tmp_path_factory.mktemp("primes-build")
    source = top / "build_backend"
    shutil.copytree(REPO / "build_backend", source, ignore=IGNORED)
    check("build", "--no-isolation", "-o", top / "out", source)
    return top / "out"


def test_primes_build_builds_into_a_wheel_with_its_defaults_skeleton_and_primes_command(
    primes_build_dist: Path,
) -> None:
    wheel = primes_build_dist / "primes_build-1-py3-none-any.whl"
    check("twine", "check", "--strict", wheel, primes_build_dist / "primes_build-1.tar.gz")
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        entry_points = whl.read("primes_build-1.dist-info/entry_points.txt").decode()
        metadata = whl.read("primes_build-1.dist-info/METADATA").decode()
    assert "primes_build/project/defaults/node.toml" in names
    assert "primes_build/project/defaults/templates/start.sh.j2" in names
    assert "primes_build/scaffold/skeleton/apps/__app__/__app__/store.py.j2" in names
    assert "primes = primes_build.command:main" in entry_points
    assert "Requires-Dist: primes-runtime==1" in metadata


LAZY_IMPORTS = {"build": "asked for by get_requires_for_build_wheel", "uv": "extra lock"}
"""What primes_build imports only where it is asked for, not as a dependency."""


def test_primes_build_installs_what_it_imports_and_not_the_build_frontend(
    primes_build_dist: Path,
) -> None:
    with zipfile.ZipFile(primes_build_dist / "primes_build-1-py3-none-any.whl") as whl:
        metadata = whl.read("primes_build-1.dist-info/METADATA").decode()
    requires = [
        Requirement(line.removeprefix("Requires-Dist: "))
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist: ")
    ]
    installed = {r.name for r in requires if r.marker is None}
    assert installed == {"primes-runtime", "installer", "packaging", "jinja2", "setuptools"}
    assert {r.name for r in requires if r.marker is not None} == {"uv"}
    imported: set[str] = set()
    for path in (REPO / "build_backend/primes_build").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"primes_build"}
    modules = {name.replace("-", "_") for name in installed}
    assert third_party - set(LAZY_IMPORTS) <= modules
    assert set(LAZY_IMPORTS) <= third_party  # else the list above is stale
