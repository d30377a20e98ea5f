"""The one rule for a release command's argument: a package path or a version."""

from __future__ import annotations

PACKAGE_SUFFIX = ".tar.gz"


def is_package_path(text: str) -> bool:
    """A package path has a '/' or ends in .tar.gz; anything else is a version."""
    return "/" in text or text.endswith(PACKAGE_SUFFIX)
