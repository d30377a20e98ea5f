"""Your own service, outside this repository: primes new, python -m build, tar, start, upgrade.

Everything runs through the real commands a user types, in a temporary directory, against the
local index of tests/e2e/world.py (the `world` fixture).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.world import REPO, World, run

STORE_V2 = '''"""The store, version 2: the state counts writes next to the table."""

from __future__ import annotations

from typing import Any

from primes_runtime import Caller, Pid, call, start_server
from primes_runtime.server import Reply

NAME = "kvnode_app_store"

State = dict[str, Any]
"""Version 2's state: {"items": key -> value, "writes": number of puts since the upgrade}."""


def start_link(args: object = None) -> Pid:
    return start_server(__name__, args, name=NAME)


def put(key: str, value: object) -> object:
    return call(NAME, ("put", key, value))


def get(key: str) -> object:
    return call(NAME, ("get", key))


def writes() -> object:
    return call(NAME, "writes")


def init(args: object) -> State:
    return {"items": {}, "writes": 0}


def handle_call(request: object, caller: Caller, state: State) -> Reply:
    items = state["items"]
    match request:
        case ("put", str(key), value):
            new = {"items": {**items, key: value}, "writes": state["writes"] + 1}
            return Reply(items.get(key), new)
        case ("get", str(key)):
            return Reply(items.get(key), state)
        case "writes":
            return Reply(state["writes"], state)
        case _:
            return Reply(("error", "unknown_request"), state)


def handle_cast(msg: object, state: State) -> State:
    return state


def handle_info(msg: object, state: State) -> State:
    return state


def code_change(old_vsn: object, state: Any, extra: object) -> State:
    if "items" not in state:  # version 1's shape: the table itself
        return {"items": dict(state), "writes": 0}
    return state
'''


@pytest.fixture
def node_root(tmp_path: Path) -> Iterator[Path]:
    """Where the release is deployed; whatever runs there is stopped at the end."""
    root = tmp_path / "srv" / "kvnode"
    yield root
    if (root / "bin" / "kvnode").exists():
        subprocess.run([root / "bin" / "kvnode", "stop"], capture_output=True, check=False)


def _started_new_project(world: World, node_root: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    """`primes new kvnode`, build, `tar -xzf` into node_root, start: (work dir, project, bin)."""
    work = tmp_path / "work"
    work.mkdir()
    project = work / "kvnode"
    run([world.bin("primes"), "new", "kvnode"], cwd=work, env=world.env)
    run([world.bin("python"), "-m", "build"], cwd=project, env=world.env)
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
    return run([world.bin("python"), "-m", "build"], cwd=project, env=world.env)


def test_a_new_project_builds_boots_and_upgrades_keeping_its_state(
    world: World, node_root: Path, tmp_path: Path
) -> None:
    started = time.monotonic()
    work, project, kvnode = _started_new_project(world, node_root, tmp_path)
    assert run([kvnode, "ping"], cwd=work).strip() == "pong"
    elapsed = time.monotonic() - started
    print(f"\nprimes new -> running node: {elapsed:.1f} s")

    store = "kvnode_app.store"
    assert run([kvnode, "rpc", store, "put", "'colour'", "'blue'"], cwd=work).strip() == "None"
    assert run([kvnode, "rpc", store, "get", "'colour'"], cwd=work).strip() == "blue"

    output = _version_2(world, project, STORE_V2)
    assert "releases/2/up_from_1.relup" in output
    upgraded = run([kvnode, "upgrade", project / "dist" / "kvnode_2.tar.gz"], cwd=work)
    assert "2" in upgraded

    assert run([kvnode, "rpc", store, "get", "'colour'"], cwd=work).strip() == "blue"
    assert run([kvnode, "rpc", store, "writes"], cwd=work).strip() == "0"
    run([kvnode, "rpc", store, "put", "'size'", "3"], cwd=work)
    assert run([kvnode, "rpc", store, "writes"], cwd=work).strip() == "1"
    run([kvnode, "stop"], cwd=work)

    # What the backend wrote passes the ecosystem's checkers, and so do primes' own.
    dists = [project / "dist" / "kvnode-2.tar.gz", project / "dist" / "kvnode-2-py3-none-any.whl"]
    run([sys.executable, "-m", "twine", "check", "--strict", *dists, *world.built], cwd=work)
    pyprojects = [project / "pyproject.toml", project / "apps/kvnode_app/pyproject.toml"]
    pyprojects += [REPO / "build_backend/pyproject.toml", REPO / "runtime/pyproject.toml"]
    run([sys.executable, "-m", "validate_pyproject", *pyprojects], cwd=work)


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


def test_the_new_apps_own_tests_pass_with_the_runtime_installed_from_the_index(
    world: World, tmp_path: Path
) -> None:
    run([world.bin("primes"), "new", "kvtest"], cwd=tmp_path, env=world.env)
    project = tmp_path / "kvtest"
    venv = tmp_path / "appvenv"
    run([sys.executable, "-m", "venv", venv], cwd=tmp_path, env=world.env)
    app = project / "apps" / "kvtest_app"
    run(
        [venv / "bin/python", "-m", "pip", "install", "-q", "-e", f"{app}[test]"],
        cwd=project,
        env=world.env,
    )
    output = run([venv / "bin/python", "-m", "pytest", "-q", app], cwd=project, env=world.env)
    assert "3 passed" in output
