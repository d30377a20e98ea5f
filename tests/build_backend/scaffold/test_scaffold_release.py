"""A `primes new` project built with this backend: it boots as created and passes the checkers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from primes_build.scaffold import new as scaffold

from tests.build_backend.helpers import REPO

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Built:
    """A scaffolded project and its dist/ after one `python -m build`."""

    project: Path
    dist: Path


def run(argv: list[str | Path], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """`primes new kvnode`, then `python -m build` with this checkout's backend (no isolation)."""
    project = scaffold.create("kvnode", tmp_path_factory.mktemp("work"))
    done = run(
        [sys.executable, "-m", "build", "--no-isolation", "--skip-dependency-check"],
        project,
        PYTHONPATH=str(REPO / "build_backend"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return Built(project=project, dist=project / "dist")


@pytest.fixture
def deployed(built: Built, tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "kvnode"
    root.mkdir()
    assert (
        run(["tar", "-xzf", built.dist / "kvnode_1.tar.gz", "-C", root], tmp_path).returncode == 0
    )
    yield root
    run([root / "bin/kvnode", "stop"], tmp_path)


def test_the_new_project_boots_and_its_store_keeps_what_is_put(
    deployed: Path, tmp_path: Path
) -> None:
    kvnode = deployed / "bin/kvnode"
    assert run([kvnode, "start"], tmp_path).returncode == 0
    assert run([kvnode, "ping"], tmp_path).stdout == "pong\n"
    put = run([kvnode, "rpc", "kvnode_app.store", "put", "'colour'", "'blue'"], tmp_path)
    assert put.stdout == "None\n", put.stderr
    assert run([kvnode, "rpc", "kvnode_app.store", "get", "'colour'"], tmp_path).stdout == "blue\n"


def test_a_boot_failure_is_reported_under_the_nodes_own_name(
    deployed: Path, tmp_path: Path
) -> None:
    (deployed / "releases/1/node.toml").write_text("[node\n")
    done = run([deployed / "bin/kvnode", "foreground"], tmp_path)
    assert done.returncode != 0
    assert "kvnode: cannot boot:" in done.stderr
    assert "primenode" not in done.stdout + done.stderr


def test_the_new_projects_sdist_and_wheel_pass_twine_check(built: Built) -> None:
    dists = [built.dist / "kvnode-1.tar.gz", built.dist / "kvnode-1-py3-none-any.whl"]
    done = run([sys.executable, "-m", "twine", "check", "--strict", *dists], built.project)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_new_projects_pyproject_files_pass_validate_pyproject(built: Built) -> None:
    files = [built.project / "pyproject.toml", built.project / "apps/kvnode_app/pyproject.toml"]
    done = run([sys.executable, "-m", "validate_pyproject", *files], built.project)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_new_apps_own_tests_pass_against_this_checkouts_runtime(built: Built) -> None:
    app = built.project / "apps/kvnode_app"
    done = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", app],
        app,
        PYTHONPATH=str(app),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


def test_a_usage_error_of_the_start_script_names_the_node(deployed: Path, tmp_path: Path) -> None:
    done = run([deployed / "bin/kvnode", "fly"], tmp_path)
    assert done.returncode == 2
    assert done.stderr == "kvnode: unknown command 'fly'; see 'kvnode help'\n"
