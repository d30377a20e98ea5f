"""The reaper: children left as zombies are reaped, children a live Popen owns are not."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest
from primes_runtime.kernel.reaper import Reaper, owned_by_popen, zombie_children
from primes_runtime.loading import collector


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """What a test freezes is back in the collector's sight afterwards."""
    yield
    collector.thaw()


def _until_zombie(pid: int) -> None:
    deadline = time.monotonic() + 10
    while pid not in zombie_children(os.getpid()):
        assert time.monotonic() < deadline, f"{pid} never became a zombie"
        time.sleep(0.01)


def test_a_child_nobody_waits_for_is_reaped_once_its_grace_passed() -> None:
    now = [0.0]
    reaper = Reaper(grace=5.0, clock=lambda: now[0])
    pid = os.posix_spawn("/bin/true", ["true"], dict(os.environ))
    _until_zombie(pid)
    assert pid not in reaper.once()
    now[0] = 5.0
    assert pid in reaper.once()
    assert pid not in zombie_children(os.getpid())


def test_a_child_a_live_popen_owns_is_left_for_its_owner_to_wait_for() -> None:
    reaper = Reaper(grace=0.0)
    helper = subprocess.Popen(["sh", "-c", "exit 3"])
    _until_zombie(helper.pid)
    assert helper.pid not in reaper.once()
    assert helper.wait(10) == 3


def test_a_child_of_a_popen_the_node_froze_is_left_for_its_owner(unfrozen: None) -> None:
    helper = subprocess.Popen(["sh", "-c", "exit 3"])  # (an app's helper, started at boot)
    collector.freeze_boot()
    _until_zombie(helper.pid)
    assert helper.pid not in owned_by_popen()  # gc's own walk does not see it
    reaper = Reaper(grace=0.0, owned=lambda: owned_by_popen(collector.popens()))
    assert helper.pid not in reaper.once()
    assert helper.wait(10) == 3
