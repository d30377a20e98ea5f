"""Making the handed-over release permanent (RELEASES, start_data), and taking it back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from primes_runtime.release import store
from primes_runtime.release import target as targets
from primes_runtime.release.errors import ReleaseError
from primes_runtime.release.store import StartData, StoredRelease


@dataclass(frozen=True)
class Made:
    """RELEASES and start_data before and after a release was made permanent."""

    releases: tuple[tuple[StoredRelease, ...], tuple[StoredRelease, ...]]
    start: tuple[StartData | None, StartData]


def make(root: Path, version: str) -> Made:
    """RELEASES and start_data name `version` (a restart boots it); the same files again when
    they do already (a successor finishing a hand-over its dead predecessor committed)."""
    releases = store.read_releases(root)
    updated = tuple(
        StoredRelease(r.version, "old" if r.status == "permanent" else r.status)
        if r.version != version
        else StoredRelease(version, "permanent")
        for r in releases
    )
    try:
        before: StartData | None = store.read_start_data(root)
    except ReleaseError:
        before = None
    start = (before, StartData(version, targets.load(root, version).runtime_dir))
    store.commit(root, releases, updated, start)
    return Made((releases, updated), start)


def undo(root: Path, made: Made) -> None:
    """Put RELEASES and start_data back as they were before `made`."""
    before, new = made.start
    store.commit(root, made.releases[1], made.releases[0], (new, before) if before else None)
