"""The interpreter a release runs on this host, found as the start script finds it.

PRIMES_PYTHON if set, else node.toml's `[node] python` (a command on PATH or a path), else
`python3.<minor>` for a release that names its interpreter (release.json `python`), else
`python3`. A release that names one is refused unless that command runs that Python.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from primes_runtime.formats import FormatError, manifest

from .errors import ReleaseError

ENV = "PRIMES_PYTHON"
_PROBE = "import sys; print('%d.%d' % sys.version_info[:2])"


def own() -> str:
    """This interpreter's `major.minor`."""
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def command(target: str, configured: str | None) -> tuple[str, str]:
    """The command that runs a release targeting `target` ("" for any), and where it is set."""
    chosen = os.environ.get(ENV)
    if chosen:
        return chosen, ENV
    if configured:
        return configured, "[node] python"
    return (f"python{target}" if target else "python3"), "PATH"


def version_of(program: str) -> str | None:
    """The `major.minor` of the Python `program` runs (a path or a command on PATH), or None."""
    import subprocess  # here: the unpack child imports this module and seldom runs this

    where = shutil.which(program)
    if where is None:
        return None
    try:
        done = subprocess.run(
            [where, "-S", "-s", "-E", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = done.stdout.strip()
    return found if done.returncode == 0 and manifest.PYTHON.fullmatch(found) else None


def target_of(release_dir: Path) -> str:
    """A release dir's target interpreter ("" for any), from its release.json alone."""
    where = release_dir / manifest.NAME
    try:
        return manifest.loads(where.read_text(encoding="utf-8"), str(where)).python
    except (OSError, UnicodeDecodeError, FormatError) as exc:
        raise ReleaseError(f"refused, cannot read {where.parent} ({exc})") from None


def wanted(release_dir: Path) -> tuple[str, str | None]:
    """A release dir's target interpreter ("" for any) and its node.toml `[node] python`."""
    from primes_runtime.formats import node_toml  # here: the unpack child seldom needs it

    where = release_dir / manifest.NAME
    try:
        target = manifest.loads(where.read_text(encoding="utf-8"), str(where)).python
        config = release_dir / node_toml.NAME
        configured = (
            node_toml.parse(config.read_text(encoding="utf-8"), str(config)).python
            if config.is_file()
            else None
        )
    except (OSError, UnicodeDecodeError, FormatError) as exc:
        raise ReleaseError(f"refused, cannot read {where.parent} ({exc})") from None
    return target, configured


def located(target: str, configured: str | None) -> str | None:
    """The path of the interpreter that runs a release targeting `target` here, if it is one."""
    program, _ = command(target, configured)
    where = shutil.which(program)
    return where if where is not None and version_of(where) == target else None


def start_interpreter(configured: str | None) -> tuple[str, str] | None:
    """The path and `major.minor` of the interpreter that starts a release naming none here
    (PRIMES_PYTHON, `[node] python`, else python3); None if that does not run."""
    program, _ = command("", configured)
    where = shutil.which(program)
    found = version_of(where) if where is not None else None
    return (where, found) if where is not None and found is not None else None


def refuse_missing(source: Path, release_dir: Path, version: str) -> None:
    """Refuse, in one line, a release whose interpreter this host lacks."""
    target, configured = wanted(release_dir)
    if not target:
        return
    program, origin = command(target, configured)
    found = version_of(program)
    if found == target:
        return
    if origin == ENV:
        how = f"set {ENV} to a Python {target} interpreter, or unset it"
    elif "/" not in program:
        origin, how = "PATH", f"install Python {target} as {program} on the node's PATH"
    else:
        how = f"install Python {target} at {program}, or change [node] python in its node.toml"
    if shutil.which(program) is None:
        why = "not found"
    elif found is None:
        why = "does not run"
    else:
        why = f"is Python {found}"
    raise ReleaseError(
        f"{source}: refused, release {version} runs on Python {target}, which this host "
        f"lacks ({program}, from {origin}: {why}); {how}"
    )
