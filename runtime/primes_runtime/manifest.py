"""Public: the release manifest a node boots from (the code is in host/manifest.py).

App code imports this module: its path and names stay the same across runtime versions, as a
node hands over to a newer runtime with the same app code.
"""

from .host.manifest import (
    FORMAT,
    AppSpec,
    LibrarySpec,
    Manifest,
    RuntimeSpec,
    load,
    parse,
    path_of,
)

__all__ = [
    "FORMAT",
    "AppSpec",
    "LibrarySpec",
    "Manifest",
    "RuntimeSpec",
    "load",
    "parse",
    "path_of",
]
