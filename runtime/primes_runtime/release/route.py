"""Whether an upgrade is hot (in place) or a hand-over to a successor node, and why."""

from __future__ import annotations

import sys
from pathlib import Path

from primes_runtime.release import interpreter as interpreters
from primes_runtime.release import target as targets
from primes_runtime.release.target import Release


def named(release: Release) -> str | None:
    """The interpreter a release names (`[release] python`), if it names one."""
    value = getattr(release.manifest, "python", None)
    return str(value) if value else None


def interpreter(release: Release, unnamed: str | None = None) -> str:
    """The interpreter a release runs on: the one it names, else `unnamed` (where its start
    command leads), else the running one's X.Y."""
    return named(release) or unnamed or f"{sys.version_info.major}.{sys.version_info.minor}"


def unnamed_python(root: Path, old: Release, new: Release) -> tuple[str, str] | None:
    """Where a release that names no interpreter runs when the running one names one: its
    start command's interpreter (path, X.Y), as a restart would boot it; None when it stays
    on this interpreter (neither names one, or the new one names its own)."""
    if named(new) or not named(old):
        return None
    _, configured = interpreters.wanted(targets.release_dir(root, new.version))
    return interpreters.start_interpreter(configured)


def reason(old: Release, new: Release, unnamed: str | None = None) -> str | None:
    """Why going from `old` to `new` needs a hand-over; None when it can be done in place.
    `unnamed`: the X.Y `new` runs on if it names none (unnamed_python)."""
    was, now = interpreter(old), interpreter(new, unnamed)
    if was != now:
        return f"the interpreter changes (Python {was} -> {now})"
    if old.runtime_dir != new.runtime_dir:
        return (
            f"the runtime changes ({_name(old.runtime_dir)} -> {_name(new.runtime_dir)}), "
            "and a runtime is never swapped in place"
        )
    return None


def _name(runtime_dir: str) -> str:
    return runtime_dir.rsplit("/", 1)[-1]
