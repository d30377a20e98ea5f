"""Which wheel tags this interpreter can load: a stdlib-only subset of packaging.tags.

Narrower than packaging.tags.sys_tags(): CPython on Linux (glibc manylinux_2_x, the legacy
manylinux1/2010/2014 aliases and linux_<arch>) is computed in full; musllinux, macOS,
Windows and other interpreters get only their pure-Python tags (py3x-none-any and the like),
so a compiled wheel for them is refused rather than guessed at.
"""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
from collections.abc import Iterable, Mapping
from pathlib import Path

from .errors import ReleaseError

_LEGACY = {(2, 5): "manylinux1", (2, 12): "manylinux2010", (2, 17): "manylinux2014"}
_OLDEST_GLIBC = {"x86_64": 5, "i686": 5}  # other architectures start at manylinux_2_17


def _glibc() -> tuple[int, int] | None:
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, OSError, ValueError):
        return None
    name, _, version = text.partition(" ")
    major, _, minor = version.partition(".")
    if name != "glibc" or not major.isdigit() or not minor.split(".")[0].isdigit():
        return None
    return int(major), int(minor.split(".")[0])


def _arch() -> str:
    machine = platform.machine().lower()
    if machine in ("amd64", "x86_64") and sys.maxsize <= 2**32:
        return "i686"
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


def platforms() -> list[str]:
    """This machine's platform tags, most specific first (empty when not glibc Linux)."""
    glibc = _glibc()
    if not sys.platform.startswith("linux") or glibc is None:
        return []
    arch = _arch()
    found = []
    for minor in range(glibc[1], _OLDEST_GLIBC.get(arch, 17) - 1, -1):
        found.append(f"manylinux_{glibc[0]}_{minor}_{arch}")
        legacy = _LEGACY.get((glibc[0], minor))
        if legacy is not None:
            found.append(f"{legacy}_{arch}")
    found.append(f"linux_{arch}")
    return found


def node_tags(python: tuple[int, int] | None = None) -> frozenset[str]:
    """Every `interpreter-abi-platform` tag a wheel may carry for this interpreter (or, with
    `python`, a default build of that CPython on this machine) to load it."""
    major, minor = python or sys.version_info[:2]
    other = python is not None and python != tuple(sys.version_info[:2])
    pythons = [f"py{major}{m}" for m in range(minor, -1, -1)] + [f"py{major}"]
    tags = {f"{p}-none-any" for p in pythons}
    if sys.implementation.name != "cpython":
        return frozenset(tags)
    cp = f"cp{major}{minor}"
    tags.add(f"{cp}-none-any")
    plats = platforms()
    threaded = not other and bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    debug = not other and bool(sysconfig.get_config_var("Py_DEBUG"))
    own_abi = cp + ("t" if threaded else "") + ("d" if debug else "")
    for plat in plats:
        tags.update({f"{cp}-{own_abi}-{plat}", f"{cp}-none-{plat}"})
        if not threaded:
            tags.update(f"cp{major}{m}-abi3-{plat}" for m in range(minor, 1, -1))
        tags.update(f"{p}-none-{plat}" for p in pythons)
    return frozenset(tags)


def describe(python: tuple[int, int] | None = None) -> str:
    """The node's (or that Python's) tags in a few words, for a refusal line."""
    major, minor = python or sys.version_info[:2]
    plats = platforms()
    if sys.implementation.name != "cpython" or not plats:
        return f"py{major}{minor}-none-any and older pure-Python tags only"
    cp = f"cp{major}{minor}"
    newest, oldest = plats[0], next(p for p in reversed(plats) if p.startswith("manylinux_"))
    return f"{cp}-{{{cp},abi3,none}}-{{{newest} .. {oldest}, {plats[-1]}}}, py3*-none-any"


def refuse_unloadable(
    source: Path, manifest: Mapping[str, object], supported: Iterable[str] | None = None
) -> None:
    """Refuse a package whose manifest lists a library wheel this interpreter cannot load."""
    target = _target(source, manifest)
    tags = frozenset(supported) if supported is not None else node_tags(target)
    who = (
        f"Python {target[0]}.{target[1]}, which the release runs on; its tags"
        if target
        else f"this node's Python ({sys.executable}); the node's tags"
    )
    libraries = manifest.get("libraries") or []
    if not isinstance(libraries, list):
        raise ReleaseError(f"{source}: refused, its release.json 'libraries' is not a list")
    for library in libraries:
        if not isinstance(library, dict):
            raise ReleaseError(f"{source}: refused, an entry of 'libraries' is not an object")
        wheel_tags = library.get("tags") or []
        if not isinstance(wheel_tags, list) or tags.isdisjoint(str(t) for t in wheel_tags):
            shown = ", ".join(map(str, wheel_tags)) if isinstance(wheel_tags, list) else "?"
            raise ReleaseError(
                f"{source}: refused, wheel {library.get('wheel')} ({shown}) cannot be loaded "
                f"by {who}: {describe(target)}"
            )


def _target(source: Path, manifest: Mapping[str, object]) -> tuple[int, int] | None:
    """The interpreter the manifest names (`python`, "3.12"), or None."""
    python = manifest.get("python")
    if python is None:
        return None
    major, _, minor = str(python).partition(".")
    if not (major.isdigit() and minor.isdigit()):
        raise ReleaseError(f"{source}: refused, its release.json 'python' is not like \"3.12\"")
    return int(major), int(minor)
