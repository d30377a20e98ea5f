"""A read-only view of one release (being built, or an earlier package) for the upgrade planner."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReleaseView:
    """One release as the upgrade planner sees it.

    `manifest` is the content of releases/<vsn>/release.json (docs/formats.md).
    `read_source(app, module)` returns the source bytes of a module of an app of this
    release (raises KeyError if the app or module is not in the release).
    `origin` says where it came from, for messages (a package path or "this build").
    """

    manifest: Mapping[str, Any]
    read_source: Callable[[str, str], bytes]
    origin: str

    @property
    def version(self) -> str:
        """The release version."""
        return str(self.manifest["version"])
