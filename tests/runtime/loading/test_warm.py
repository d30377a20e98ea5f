"""Tests for loading/warm.py: a warm child forks a worker per unpack, and its absence or
death only costs the fresh child the unpack would have started anyway."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from primes_runtime.formats.unpack_limits import UnpackLimits
from primes_runtime.loading.warm import WarmChild
from primes_runtime.release import unpacker
from primes_runtime.release.errors import ReleaseError

from tests.runtime.release.trees import App, make_package

UNPACKER = ("primes_runtime.release.unpacker",)
V2 = [App("counter", "2", {"counter": "VSN = 2\n"})]


@pytest.fixture
def warm() -> Iterator[WarmChild]:
    child = WarmChild.start(UNPACKER)
    assert child is not None
    yield child
    child.close()


def _stage(tmp_path: Path, name: str, warm: WarmChild | None, limits: UnpackLimits) -> object:
    package = tmp_path / "primenode_2.tar.gz"
    if not package.exists():
        make_package(tmp_path, "2", V2)
    staging = tmp_path / "root" / "releases" / name
    staging.mkdir(parents=True)
    with package.open("rb") as data:
        return unpacker.stage_in_child(package, data, staging, limits, warm)


def _forked_by(parent: int) -> set[int]:
    """The pids whose parent is `parent` (Linux /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.add(int(entry))
    return found


def test_a_warm_worker_stages_what_a_fresh_child_stages(tmp_path: Path, warm: WarmChild) -> None:
    by_worker = _stage(tmp_path, "a", warm, UnpackLimits())
    by_fresh_child = _stage(tmp_path, "b", None, UnpackLimits())
    assert by_worker == by_fresh_child
    assert (tmp_path / "root" / "releases" / "a" / "lib" / "counter-2" / "counter.py").is_file()


def test_each_unpack_is_a_worker_the_warm_child_forks_and_reaps(
    tmp_path: Path, warm: WarmChild
) -> None:
    for name in ("a", "b", "c"):
        _stage(tmp_path, name, warm, UnpackLimits())
    assert _forked_by(warm.pid) == set()  # every worker reaped
    assert Path(f"/proc/{warm.pid}").exists()  # the warm child itself stays


def test_a_refusal_in_a_worker_is_its_one_line(tmp_path: Path, warm: WarmChild) -> None:
    package = tmp_path / "primenode_2.tar.gz"
    package.write_bytes(b"not a tar at all")
    staging = tmp_path / "staging"
    staging.mkdir()
    with package.open("rb") as data, pytest.raises(ReleaseError) as refused:
        unpacker.stage_in_child(package, data, staging, UnpackLimits(), warm)
    assert str(refused.value).startswith(f"{package}: not a readable .tar.gz package")
    assert "\n" not in str(refused.value)


def test_a_worker_past_its_timeout_is_killed_and_the_unpack_refused(
    tmp_path: Path, warm: WarmChild
) -> None:
    limits = replace(UnpackLimits(), timeout=0.001)
    with pytest.raises(ReleaseError, match=r"unpacking took over 0.001s \(unpack.timeout\)"):
        _stage(tmp_path, "a", warm, limits)
    assert _forked_by(warm.pid) == set()  # killed and reaped
    _stage(tmp_path, "b", warm, UnpackLimits())  # the warm child serves the next one


def test_a_closed_warm_child_exits_and_an_unpack_starts_a_fresh_child(
    tmp_path: Path, warm: WarmChild
) -> None:
    warm.close()
    assert not Path(f"/proc/{warm.pid}").exists()
    assert warm.run("primes_runtime.release.unpacker", ["x"], 0, 0, 1.0) is None
    assert _stage(tmp_path, "a", warm, UnpackLimits()) == _stage(
        tmp_path, "b", None, UnpackLimits()
    )


def test_a_warm_child_that_died_costs_only_a_fresh_child(tmp_path: Path, warm: WarmChild) -> None:
    assert warm.pid > 1
    os.kill(warm.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{warm.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline, "the warm child did not die"
        time.sleep(0.01)
    assert _stage(tmp_path, "a", warm, UnpackLimits()) == _stage(
        tmp_path, "b", None, UnpackLimits()
    )


def test_a_warm_child_whose_modules_do_not_import_leaves_unpacks_to_fresh_children(
    tmp_path: Path,
) -> None:
    broken = WarmChild.start(("primes_runtime.no_such_module",))
    assert broken is not None
    try:
        assert _stage(tmp_path, "a", broken, UnpackLimits()) == _stage(
            tmp_path, "b", None, UnpackLimits()
        )
    finally:
        broken.close()
