"""A library dir an earlier release already ships is reused byte for byte (lib/<name>-<vsn>)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from primes_build.deps.libraries import Library
from primes_build.errors import BuildError
from primes_build.package.previous import EarlierRelease


def settle(
    libraries: Sequence[Library], earlier: Sequence[EarlierRelease], say: Callable[[str], None]
) -> list[Library]:
    """Each library with an earlier release's files for the same dir, when the code is equal.

    The same name and version with other code (a rebuilt wheel, say) is refused: a node
    that has the earlier dir keeps it and would run other code than this release says.
    """
    settled = []
    for library in libraries:
        files = dict(library.files)
        for old in earlier:
            theirs = old.lib_files(library.path)
            if not theirs:
                continue
            if _code(theirs) != _code(files):
                raise BuildError(
                    f"{library.path} differs from the one in release {old.version} "
                    f"({old.path}) under the same version; lock the same file, or a new version"
                )
            if theirs != files:
                files = theirs
                say(f"    {library.path}: same code as in {old.path.name}, its files reused")
        settled.append(
            Library(
                name=library.name,
                version=library.version,
                wheel=library.wheel,
                tags=library.tags,
                requires=library.requires,
                used_by=library.used_by,
                files=files,
            )
        )
    return settled


def _code(files: dict[str, bytes]) -> dict[str, bytes]:
    return {p: d for p, d in files.items() if ".dist-info/" not in p}
