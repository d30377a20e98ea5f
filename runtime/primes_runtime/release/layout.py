"""Where a release's code may live: plain-named dirs right under lib/, and nothing else there."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from primes_runtime.formats import FormatError
from primes_runtime.formats import manifest as fmt

from .errors import ReleaseError

_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]*")


def is_plain(name: str) -> bool:
    """A single path component that names nothing special: no '/', '.', '..' or hidden name."""
    return _PLAIN.fullmatch(name) is not None


def is_lib_dir(path: str) -> bool:
    """Whether `path` is `lib/<plain name>`: a code dir directly under the tree's lib/."""
    head, _, name = path.partition("/")
    return head == "lib" and is_plain(name)


def is_removable(path: str) -> bool:
    """Whether a release operation may ever delete tree path `path`: a code dir of lib/ or a
    release dir of releases/, nothing outside the tree and nothing deeper."""
    head, _, name = path.partition("/")
    return head in ("lib", "releases") and is_plain(name)


def code_dirs(release: fmt.Manifest) -> set[str]:
    """The runtime's, apps' and libraries' code dirs a manifest names."""
    return {
        release.runtime.path,
        *(app.path for app in release.apps),
        *(lib.path for lib in release.libraries),
    }


def check_package(source: Path, version: str, manifest_text: str, files: Iterable[str]) -> None:
    """Refuse a package whose release.json names a code dir that is not `lib/<plain name>`, or
    whose lib/ holds anything (a file, another dir) that release.json does not list."""
    where = fmt.path_for(version)
    try:
        release = fmt.loads(manifest_text, where)
    except FormatError as exc:
        raise ReleaseError(f"{source}: refused, {exc}") from None
    listed = code_dirs(release)
    for path in sorted(listed):
        if not is_lib_dir(path):
            raise ReleaseError(
                f"{source}: refused, {where} names the code dir {path!r}, which is not a plain "
                "name under lib/; rebuild the package with the primes build"
            )
    for path in sorted(files):
        if not path.startswith("lib/"):
            continue
        top = "/".join(path.split("/")[:2])
        if top == path:
            raise ReleaseError(
                f"{source}: refused, a file directly in lib/: {path}; lib/ holds only the code "
                f"dirs {where} lists"
            )
        if top not in listed:
            raise ReleaseError(
                f"{source}: refused, {top} is not a code dir {where} lists; lib/ holds only "
                "the release's own code dirs"
            )
