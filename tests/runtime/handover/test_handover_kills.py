"""What a hand-over's kill cases rest on: a kill fault kills only the side and step it names,
a successor tells a dead predecessor from a live one, and making the release permanent twice
(the old node, then a successor finishing alone) writes the same files and undoes exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from primes_runtime.handover import faults, permanent
from primes_runtime.release import store
from primes_runtime.release.store import StartData, StoredRelease

from tests.runtime.release.trees import RUNTIME_DIR, App, mark_permanent, write_release

KILL = "from primes_runtime.handover import faults; faults.kill('leader', 'states')"

ORPHAN = """
import os
from primes_runtime.handover.successor import Leader

ready_r, ready_w = os.pipe()
died_r, died_w = os.pipe()
if os.fork() == 0:
    os.close(ready_r)
    os.close(died_w)
    leader = Leader()
    alive = not leader.gone(0)
    os.write(ready_w, b"x")
    os.read(died_r, 1)  # end of file: the parent has exited
    print(alive, leader.gone(60), flush=True)
    os._exit(0)
os.close(died_r)
os.read(ready_r, 1)
os._exit(0)
"""


def run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )


def test_a_kill_fault_kills_the_process_at_the_side_and_step_it_names_only() -> None:
    assert run(KILL, {faults.KILL_VAR: "leader:states"}).returncode == -9
    assert run(KILL, {faults.KILL_VAR: "successor:states"}).returncode == 0
    assert run(KILL, {faults.KILL_VAR: "leader:commit"}).returncode == 0
    assert run(KILL, {}).returncode == 0


def test_a_successor_sees_its_predecessor_alive_then_gone_once_it_exited() -> None:
    done = run(ORPHAN, {})
    assert done.stdout.split() == ["True", "True"], done.stderr


def tree(root: Path) -> Path:
    app = App("counter", "1", {"counter": "def start():\n    return None\n"})
    for version in ("1", "2"):
        write_release(root, version, [app])
    mark_permanent(root, "1")
    store.write_releases(root, (StoredRelease("1", "permanent"), StoredRelease("2", "unpacked")))
    return root


def test_making_a_release_permanent_again_changes_nothing_and_undo_puts_back_the_first(
    tmp_path: Path,
) -> None:
    root = tree(tmp_path)
    first = permanent.make(root, "2")
    after = store.read_releases(root)
    assert after == (StoredRelease("1", "old"), StoredRelease("2", "permanent"))
    assert store.read_start_data(root) == StartData("2", RUNTIME_DIR)

    again = permanent.make(root, "2")  # a successor finishing alone after the old node did
    assert store.read_releases(root) == after
    assert store.read_start_data(root) == StartData("2", RUNTIME_DIR)
    assert again.releases == (after, after)

    permanent.undo(root, first)
    assert store.read_releases(root) == (
        StoredRelease("1", "permanent"),
        StoredRelease("2", "unpacked"),
    )
    assert store.read_start_data(root) == StartData("1", RUNTIME_DIR)
