"""Every command that moves a node to a release on another runtime hands over, through the real
commands: `install` (the release current, not permanent), `downgrade` back to the old runtime
(permanent), and `check` says so first; a downgrade that goes forward is refused in one line."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.build_backend.deps.interpreters import find_python
from tools.asgi_example import ctl, get
from tools.handover_example import build_on_python

pytestmark = pytest.mark.e2e

RUNTIME = "import primes_runtime, pathlib; pathlib.Path(primes_runtime.__file__).parent.parent.name"


@pytest.fixture(scope="module")
def python_3_12_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """PATH with python3.12 on it, as on a host that has it (python3 stays 3.11)."""
    python = find_python("3.12")
    assert python is not None, "this machine's image carries Python 3.12 (pyenv)"
    links = tmp_path_factory.mktemp("links")
    (links / "python3.12").symlink_to(python)
    return f"{links}:{os.environ['PATH']}"


@pytest.fixture(scope="module")
def on_python_3_12(
    tmp_path_factory: pytest.TempPathFactory,
    wheelhouse: Path,
    ratelimiter_v1: Path,
    python_3_12_path: str,
) -> Path:
    """ratelimiter_2.tar.gz: release 1's apps and runtime on Python 3.12 (`[release] python`)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", python_3_12_path)
        work = tmp_path_factory.mktemp("python312-ops")
        return build_on_python(work, wheelhouse, ratelimiter_v1, "3.12")


def command(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, timeout=120, env=dict(os.environ)
    )


@pytest.fixture
def started(deployed: Path, runtime_2: Path) -> Iterator[Path]:
    """Release 1 running, three hits counted, release 2 (runtime 2) unpacked."""
    done = command(deployed, "start")
    assert done.returncode == 0, done.stderr
    try:
        port = int(ctl(deployed, "rpc", "asgi_host.app", "port").strip())
        for _ in range(3):
            assert get(port, "/hit/alice")[0] == 200
        assert ctl(deployed, "unpack", str(runtime_2)).strip() == "2"
        yield deployed
    finally:
        command(deployed, "stop")


def runtime_of(script: Path) -> str:
    """The dir the running node imported primes_runtime from, asked inside the node."""
    return ctl(script, "eval", RUNTIME).strip().strip("'")


def hits(script: Path) -> int:
    port = int(ctl(script, "rpc", "asgi_host.app", "port").strip())
    return int(json.loads(get(port, "/stats")[1])["total"])


def test_check_says_install_hands_over_too_without_making_the_release_permanent(
    started: Path,
) -> None:
    out = ctl(started, "check", "2")
    assert "upgrade: a hand-over to a successor node, because the runtime changes" in out
    assert "install: the same hand-over, without making the release permanent" in out


def test_install_of_a_release_on_another_runtime_hands_over_and_leaves_it_not_permanent(
    started: Path,
) -> None:
    before = int(ctl(started, "pid").strip())
    assert runtime_of(started) == "primes_runtime-1"

    installed = command(started, "install", "2")

    assert installed.returncode == 0, installed.stderr
    assert f"release 2 handed over from 1: node pid {before} -> " in installed.stdout
    assert "release 2 is not permanent: a restart boots the permanent release" in installed.stdout
    assert int(ctl(started, "pid").strip()) != before
    assert runtime_of(started) == "primes_runtime-2"
    assert ctl(started, "versions").split() == ["1", "permanent", "2", "current"]
    status = ctl(started, "status")
    assert "release:  2" in status
    assert "runtime:  lib/primes_runtime-2, Python " in status
    assert hits(started) == 3  # the counters came along


def test_downgrade_after_a_hand_over_hands_back_to_the_old_runtime_and_makes_it_permanent(
    started: Path,
) -> None:
    upgraded = command(started, "upgrade", "2")
    assert upgraded.returncode == 0, upgraded.stderr
    assert runtime_of(started) == "primes_runtime-2"
    assert "downgrade: a hand-over to a successor node" in ctl(started, "check", "1")
    before = int(ctl(started, "pid").strip())

    downgraded = command(started, "downgrade", "1")

    assert downgraded.returncode == 0, downgraded.stderr
    assert f"release 1 handed over from 2: node pid {before} -> " in downgraded.stdout
    assert "release 1 made permanent" in downgraded.stdout
    assert runtime_of(started) == "primes_runtime-1"
    assert ctl(started, "versions").split() == ["1", "permanent", "2", "old"]
    assert "runtime:  lib/primes_runtime-1, Python " in ctl(started, "status")
    assert hits(started) == 3


def test_a_downgrade_to_a_newer_release_on_another_runtime_is_refused_naming_upgrade(
    started: Path,
) -> None:
    before = int(ctl(started, "pid").strip())

    refused = command(started, "downgrade", "2")

    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert "downgrade only goes back: to go there, run upgrade 2" in line
    assert int(ctl(started, "pid").strip()) == before
    assert runtime_of(started) == "primes_runtime-1"
    assert ctl(started, "versions").split() == ["1", "permanent", "2", "unpacked"]


def test_a_downgrade_from_python_3_12_hands_back_to_the_interpreter_release_1_boots_on(
    deployed: Path, on_python_3_12: Path, python_3_12_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", python_3_12_path)
    version = "import sys; sys.version_info[:2]"
    assert command(deployed, "start").returncode == 0
    try:
        for _ in range(3):
            assert (
                get(int(ctl(deployed, "rpc", "asgi_host.app", "port").strip()), "/hit/a")[0] == 200
            )
        upgraded = command(deployed, "upgrade", str(on_python_3_12))
        assert upgraded.returncode == 0, upgraded.stderr
        assert ctl(deployed, "eval", version).strip() == "(3, 12)"
        checked = ctl(deployed, "check", "1")
        assert (
            "downgrade: a hand-over to a successor node, because the interpreter changes "
            "(Python 3.12 -> 3.11)" in checked
        )

        downgraded = command(deployed, "downgrade", "1")

        assert downgraded.returncode == 0, downgraded.stderr
        assert "release 1 handed over from 2: node pid " in downgraded.stdout
        assert ctl(deployed, "eval", version).strip() == "(3, 11)"
        assert ctl(deployed, "versions").split() == ["1", "permanent", "2", "old"]
        assert ", Python 3.11." in ctl(deployed, "status")
        assert hits(deployed) == 3
    finally:
        command(deployed, "stop")
