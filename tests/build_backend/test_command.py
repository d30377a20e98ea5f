"""The `primes` command and `primes new`, run as a user runs them (python -m, a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from primes_build.scaffold import new as scaffold

from tests.build_backend.helpers import REPO


def primes(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "build_backend")}
    return subprocess.run(
        [sys.executable, "-m", "primes_build.command", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_primes_h_lists_the_new_verb(tmp_path: Path) -> None:
    done = primes("-h", cwd=tmp_path)
    assert done.returncode == 0
    assert "new" in done.stdout and "create a release project" in done.stdout


def test_primes_new_h_describes_the_name_and_dir(tmp_path: Path) -> None:
    done = primes("new", "-h", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.startswith("usage: primes new [-h] [--dir DIR] name")


def test_primes_new_creates_a_project_whose_files_name_the_release(tmp_path: Path) -> None:
    done = primes("new", "kvnode", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    project = tmp_path / "kvnode"
    release = tomllib.loads((project / "primes.toml").read_text())
    assert release["release"] == {"name": "kvnode", "version": "1", "requires-python": ">=3.11"}
    assert release["apps"] == {"kvnode_app": {"path": "apps/kvnode_app"}}
    build = tomllib.loads((project / "pyproject.toml").read_text())["build-system"]
    assert build == {"requires": ["primes-build==1"], "build-backend": "primes_build.buildapi"}
    for path in ["README.md", ".gitignore", "apps/kvnode_app/kvnode_app/store.py"]:
        assert (project / path).is_file(), path
    assert "def code_change(" in (project / "apps/kvnode_app/kvnode_app/store.py").read_text()
    assert "tar -xzf dist/kvnode_1.tar.gz" in (project / "README.md").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name != "kvnode"]  # no staging dir left


def test_primes_new_into_an_existing_directory_is_one_line_and_touches_nothing(
    tmp_path: Path,
) -> None:
    (tmp_path / "kvnode").mkdir()
    (tmp_path / "kvnode" / "notes.txt").write_text("mine")
    done = primes("new", "kvnode", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == "primes: kvnode already exists; choose another name or remove it first\n"
    assert [p.name for p in (tmp_path / "kvnode").iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["kvnode"]


def test_primes_new_refuses_a_bad_name_in_one_line(tmp_path: Path) -> None:
    for bad in ["Kv-Node", "9lives", "class", "kv node", "kv_"]:
        done = primes("new", bad, cwd=tmp_path)
        assert done.returncode == 1, bad
        assert done.stderr.startswith(f"primes: bad name {bad!r}: use lower-case"), done.stderr
        assert done.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_primes_without_a_verb_or_with_an_unknown_one_is_a_one_line_usage_error(
    tmp_path: Path,
) -> None:
    for args, said in [((), "no command given"), (("fly",), "invalid choice: 'fly'")]:
        done = primes(*args, cwd=tmp_path)
        assert done.returncode == 2
        assert said in done.stderr and done.stderr.count("\n") == 1


def test_the_skeleton_has_one_app_with_a_test_of_its_own() -> None:
    files = scaffold.render("kv")
    assert sorted(files) == [
        ".gitignore",
        "README.md",
        "apps/kv_app/kv_app/__init__.py",
        "apps/kv_app/kv_app/app.py",
        "apps/kv_app/kv_app/store.py",
        "apps/kv_app/kv_app/sup.py",
        "apps/kv_app/pyproject.toml",
        "apps/kv_app/tests/test_store.py",
        "primes.toml",
        "pyproject.toml",
    ]
