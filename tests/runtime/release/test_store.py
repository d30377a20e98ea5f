"""Tests for primes_runtime.release.store: RELEASES and start_data, written atomically."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from primes_runtime.release import store
from primes_runtime.release.errors import ReleaseError
from primes_runtime.release.store import StartData, StoredRelease

pytestmark = pytest.mark.usefixtures("node")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "releases").mkdir()
    return tmp_path


def test_releases_round_trip_in_order(root: Path) -> None:
    entries = (StoredRelease("1", "old"), StoredRelease("2", "permanent"))
    store.write_releases(root, entries)
    assert store.read_releases(root) == entries
    data = json.loads((root / "releases" / "RELEASES").read_text())
    assert data == {
        "format": 1,
        "releases": [{"status": "old", "version": "1"}, {"status": "permanent", "version": "2"}],
    }


def test_current_is_never_written(root: Path) -> None:
    with pytest.raises(ValueError, match="never written"):
        store.write_releases(root, (StoredRelease("1", "current"),))


def test_missing_releases_file_is_one_clear_line(root: Path) -> None:
    with pytest.raises(ReleaseError, match="RELEASES: missing") as info:
        store.read_releases(root)
    assert "\n" not in str(info.value)


def test_damaged_releases_file_is_refused(root: Path) -> None:
    (root / "releases" / "RELEASES").write_text('{"format": 1, "releases": [{"version": 1}]}')
    with pytest.raises(ReleaseError, match=r"releases\[0\]"):
        store.read_releases(root)


def test_start_data_round_trip(root: Path) -> None:
    store.write_start_data(root, StartData("2", "lib/primes_runtime-1"))
    assert (root / "releases" / "start_data").read_text() == "2 lib/primes_runtime-1\n"
    assert store.read_start_data(root) == StartData("2", "lib/primes_runtime-1")


def test_atomic_write_leaves_no_temp_file_behind(root: Path) -> None:
    store.write_releases(root, (StoredRelease("1", "permanent"),))
    store.write_releases(root, (StoredRelease("1", "permanent"), StoredRelease("2", "unpacked")))
    assert sorted(os.listdir(root / "releases")) == ["RELEASES"]


def test_kill_9_during_writes_always_leaves_a_readable_file(root: Path) -> None:
    # A child process rewrites RELEASES in a tight loop; we kill -9 it at arbitrary moments
    # and every time the file must parse as one of the two states it alternates between.
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from primes_runtime.release.store import StoredRelease, write_releases\n"
        "root = Path(sys.argv[1])\n"
        "a = (StoredRelease('1', 'permanent'),)\n"
        "b = (StoredRelease('1', 'old'), StoredRelease('2', 'permanent'))\n"
        "write_releases(root, a)\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        "    write_releases(root, b)\n"
        "    write_releases(root, a)\n"
    )
    allowed = {
        (StoredRelease("1", "permanent"),),
        (StoredRelease("1", "old"), StoredRelease("2", "permanent")),
    }
    for _ in range(5):
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(root)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        for _ in range(20):  # let it write a number of times before the kill
            assert store.read_releases(root) in allowed
        child.kill()
        child.wait()
        child.stdout.close()
        assert store.read_releases(root) in allowed


def test_commit_puts_the_old_releases_back_when_start_data_cannot_be_written(root: Path) -> None:
    old = (StoredRelease("1", "permanent"), StoredRelease("2", "unpacked"))
    new = (StoredRelease("1", "old"), StoredRelease("2", "permanent"))
    store.write_releases(root, old)
    (root / "releases" / "start_data").mkdir()  # a rename onto it fails: an I/O error there
    with pytest.raises(OSError):
        store.commit(root, old, new, (None, StartData("2", "lib/primes_runtime-1")))
    assert store.read_releases(root) == old
    assert [p.name for p in (root / "releases").iterdir() if p.name.endswith(".tmp")] == []
