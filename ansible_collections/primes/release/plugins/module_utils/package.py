"""The release version a package holds, read from its releases/<vsn>/release.json entry."""

from __future__ import annotations

import re
import tarfile

_MANIFEST = re.compile(r"^(?:\./)?releases/(?P<vsn>[^/]+)/release\.json$")


class PackageError(Exception):
    """The file is not a readable release package."""


def release_version(path: str) -> str:
    """The version of the release in package `path` (exactly one releases/<vsn>/release.json)."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            found = {m.group("vsn") for m in map(_MANIFEST.match, tar.getnames()) if m}
    except FileNotFoundError:
        raise PackageError(f"{path}: no such package on this host") from None
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise PackageError(f"{path}: not a release package ({exc})") from None
    if len(found) != 1:
        raise PackageError(
            f"{path}: not a release package (expected one releases/<vsn>/release.json, "
            f"found {len(found)})"
        )
    return found.pop()
