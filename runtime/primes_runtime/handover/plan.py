"""Whether an upgrade is hot (in place) or a hand-over to a successor node, and why."""

from __future__ import annotations

import sys

from primes_runtime.release.target import Release


def interpreter(release: Release) -> str:
    """The interpreter a release names (`[release] python`), else the running one's X.Y."""
    named = getattr(release.manifest, "python", None)
    return str(named) if named else f"{sys.version_info.major}.{sys.version_info.minor}"


def reason(old: Release, new: Release) -> str | None:
    """Why going from `old` to `new` needs a hand-over; None when it can be done in place."""
    was, now = interpreter(old), interpreter(new)
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
