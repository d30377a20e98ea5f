"""Your own service, outside this repository: a version 2 that forgot its code_change.

The walk of docs/your-own-service.md itself (new, build, start, upgrade, a library) is
tests/e2e/test_walkthrough.py. Everything here runs through the real commands a user types,
in a temporary directory, against the local index of tests/e2e/world.py (the `world` fixture).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_walkthrough import blocks
from tests.e2e.world import REPO, World, run

pytestmark = pytest.mark.e2e

DOC = REPO / "docs" / "your-own-service.md"
STORE = "apps/kvnode_app/kvnode_app/store.py"

STORE_V2 = next(b.body for b in blocks(DOC.read_text(encoding="utf-8")) if b.path == STORE)
"""Version 2 of the store as docs/your-own-service.md writes it: a new state shape."""


@pytest.fixture
def node_root(tmp_path: Path) -> Iterator[Path]:
    """Where the release is deployed; whatever runs there is stopped at the end."""
    root = tmp_path / "srv" / "kvnode"
    yield root
    if (root / "bin" / "kvnode").exists():
        subprocess.run([root / "bin" / "kvnode", "stop"], capture_output=True, check=False)


def _started_new_project(world: World, node_root: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    """`primes new kvnode`, build, `tar -xzf` into node_root, start: (work dir, project, bin).

    The builds run the world venv's primes-build (`--no-isolation`): the isolated route is the
    walkthrough's (tests/e2e/test_walkthrough.py)."""
    work = tmp_path / "work"
    work.mkdir()
    project = work / "kvnode"
    run([world.bin("primes"), "new", "kvnode"], cwd=work, env=world.env)
    run([world.bin("python"), "-m", "build", "--no-isolation"], cwd=project, env=world.env)
    node_root.mkdir(parents=True)
    run(["tar", "-xzf", project / "dist" / "kvnode_1.tar.gz", "-C", node_root], cwd=work)
    kvnode = node_root / "bin" / "kvnode"
    run([kvnode, "start"], cwd=work)
    return work, project, kvnode


def _version_2(world: World, project: Path, store_source: str) -> str:
    """The store's version 2 source, both versions bumped, `python -m build`: its output."""
    (project / "apps/kvnode_app/kvnode_app/store.py").write_text(store_source, encoding="utf-8")
    for path in (project / "apps/kvnode_app/pyproject.toml", project / "primes.toml"):
        text = path.read_text(encoding="utf-8")
        assert 'version = "1"' in text
        path.write_text(text.replace('version = "1"', 'version = "2"', 1), encoding="utf-8")
    return run([world.bin("python"), "-m", "build", "--no-isolation"], cwd=project, env=world.env)


STORE_V2_WITHOUT_CODE_CHANGE = STORE_V2[: STORE_V2.index("\ndef code_change")]
"""Version 2 as a new user first wrote it (issue 15, item 6): new state shape, no code_change."""


def test_a_version_2_without_code_change_warns_at_build_and_its_first_call_rolls_it_back(
    world: World, node_root: Path, tmp_path: Path
) -> None:
    work, project, kvnode = _started_new_project(world, node_root, tmp_path)
    store = "kvnode_app.store"
    for key in ("colour", "size", "shape"):
        run([kvnode, "rpc", store, "put", repr(key), "'x'"], cwd=work)

    output = _version_2(world, project, STORE_V2_WITHOUT_CODE_CHANGE)
    warning = "warning: kvnode_app.store: update derived, its handlers changed (handle_call, "
    lines = [line for line in output.splitlines() if warning in line]
    assert len(lines) == 1 and "defines no code_change" in lines[0], output

    package = project / "dist" / "kvnode_2.tar.gz"
    upgrade = subprocess.Popen(
        [kvnode, "upgrade", "--probation", "60", package],
        cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:  # version 1 answers until version 2's first call crashes
        got = subprocess.run(
            [kvnode, "rpc", store, "get", "'colour'"], cwd=work, capture_output=True, text=True
        )
        if got.returncode != 0:
            break
        assert got.stdout.strip() == "x" and upgrade.poll() is None
        assert time.monotonic() < deadline, "version 2 never ran"
    out, err = upgrade.communicate(timeout=60)
    assert "crashed on the new release's code (KeyError: 'items')" in got.stderr
    assert upgrade.returncode == 1, (out, err)
    assert "crashed handling a call" in err and "KeyError: 'items'" in err
    assert "release 1 is still current" in err and len(err.splitlines()) == 1
    for key in ("colour", "size", "shape"):
        assert run([kvnode, "rpc", store, "get", repr(key)], cwd=work).strip() == "x"
    assert run([kvnode, "versions"], cwd=work).split() == ["1", "permanent", "2", "unpacked"]
    run([kvnode, "stop"], cwd=work)
