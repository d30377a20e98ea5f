"""The reaper: children left as zombies are reaped, children a live Popen owns are not."""

from __future__ import annotations

import os
import subprocess
import time

from primes_runtime.kernel.reaper import Reaper, zombie_children


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
