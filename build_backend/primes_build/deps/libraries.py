"""The release's libraries: the locked distributions its apps need, fetched and installed."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from primes_build.deps import lockfile
from primes_build.deps.lockfile import Lock, Locked
from primes_build.deps.requirements import AppRequirement, third_party
from primes_build.deps.target import Target
from primes_build.deps.wheelinfo import WheelInfo, read_wheel
from primes_build.project.appmeta import dist_name
from primes_build.project.tomlfile import TomlFile
from primes_build.wheels.install import install_wheel
from primes_build.wheels.modules import extension_hashes, module_hashes

Say = Callable[[str], None]
NOT_SATISFIED = "is not satisfied by pylock.toml; run primes lock"


@dataclass(frozen=True)
class Library:
    """A third-party distribution installed into its code dir lib/<name>-<version>."""

    name: str
    """The distribution name as a directory name (`sorted_containers`)."""
    version: str
    wheel: str
    tags: tuple[str, ...]
    requires: tuple[str, ...]
    """The libraries it needs (their `name`s), which come before it."""
    used_by: tuple[str, ...]
    """The apps that need it, directly or through other libraries."""
    files: Mapping[str, bytes]

    @property
    def path(self) -> str:
        """Its code dir in a release tree."""
        return f"lib/{self.name}-{self.version}"


@dataclass(frozen=True)
class _Fetched:
    locked: Locked
    wheel: Path
    info: WheelInfo


def ship_libraries(
    root: Path,
    outdir: Path,
    apps: Sequence[tuple[str, TomlFile]],
    wheelhouse: Path | None,
    say: Say,
    target: Target | None = None,
) -> list[Library]:
    """Check the apps' requirements against root/pylock.toml, fetch and install what it locks.

    Returns the libraries in dependency order (a library after those it needs). An app with
    no third-party requirements needs no lock. Markers and wheels are those of `target` (the
    interpreter the release runs on; default: the one running the build).
    """
    target = target or Target()
    own = [name for name, _ in apps]
    per_app = {
        name: [r for r in third_party(name, doc, own) if target.holds(r.requirement.marker)]
        for name, doc in apps
    }
    lock = lockfile.load(root, target)
    wanted = [r for reqs in per_app.values() for r in reqs]
    if lock is None:
        if wanted:
            raise wanted[0].error(NOT_SATISFIED)
        return []
    for requirement in wanted:
        locked = lock.get(requirement.name)
        if locked is None or not _satisfies(locked, requirement.requirement):
            raise requirement.error(NOT_SATISFIED)
    fetched = {p.name: _fetch(lock, p, outdir, wheelhouse, say, target) for p in lock.packages}
    needs = {name: _needs(lock, item, fetched, target) for name, item in fetched.items()}
    users = _users(per_app, needs)
    for name, item in fetched.items():
        if name not in users:
            raise lock.error(
                f"locks {name} {item.locked.version}, which no app needs any more; run primes lock"
            )
    libraries = []
    for name in _order(needs):
        item = fetched[name]
        installed = install_wheel(item.wheel)
        libraries.append(
            Library(
                name=dist_name(name),
                version=item.locked.version,
                wheel=item.wheel.name,
                tags=item.info.tags,
                requires=tuple(dist_name(n) for n in sorted(needs[name])),
                used_by=tuple(sorted(users[name])),
                files=installed.files,
            )
        )
    return libraries


def manifest_entry(library: Library) -> dict[str, object]:
    """The library's entry in release.json's `libraries` (docs/formats.md)."""
    return {
        "name": library.name,
        "version": library.version,
        "path": library.path,
        "wheel": library.wheel,
        "tags": list(library.tags),
        "requires": list(library.requires),
        "used_by": list(library.used_by),
        "modules": module_hashes(library.files),
        "extensions": extension_hashes(library.files),
    }


def _satisfies(locked: Locked, requirement: Requirement) -> bool:
    return requirement.specifier.contains(locked.version, prereleases=True)


def _fetch(
    lock: Lock, locked: Locked, outdir: Path, wheelhouse: Path | None, say: Say, target: Target
) -> _Fetched:
    from primes_build.deps.fetch import FileCache  # urllib: only a release with a lock
    from primes_build.deps.sdistwheel import wheel_of_sdist

    cache = FileCache(outdir)
    path, cached = cache.fetch(lock, locked, wheelhouse)
    how = "cached" if cached else "wheelhouse" if wheelhouse is not None else "fetched"
    if not locked.is_wheel:
        path, built_cached = wheel_of_sdist(outdir, locked, path)
        how = "wheel from sdist, cached" if built_cached else "wheel built from sdist"
    info = read_wheel(path)
    if info.name != locked.name or info.version != locked.version:
        raise lock.error(
            f"{locked.filename} is {info.name} {info.version}, but the lock says "
            f"{locked.name} {locked.version}; run primes lock"
        )
    if not target.loads(info.tags):
        raise lock.error(
            f"{path.name} ({', '.join(info.tags)}) cannot be loaded by {target.describe()}, "
            f"which the release runs on; lock a wheel for it (primes lock)"
        )
    say(f"==> library {locked.name} {locked.version} ({how})")
    return _Fetched(locked=locked, wheel=path, info=info)


def _needs(lock: Lock, item: _Fetched, fetched: Mapping[str, _Fetched], target: Target) -> set[str]:
    """The locked names a library's own requirements need; each must be satisfied."""
    found: set[str] = set()
    for requirement in item.info.requires:
        if not target.holds(requirement.marker):
            continue
        name = canonicalize_name(requirement.name)
        other = fetched.get(name)
        if other is None or not _satisfies(other.locked, requirement):
            raise lock.error(
                f"{item.locked.name} {item.locked.version} requires {requirement}, "
                "which the lock does not satisfy; run primes lock"
            )
        found.add(name)
    return found


def _users(
    per_app: Mapping[str, Sequence[AppRequirement]], needs: Mapping[str, Collection[str]]
) -> dict[str, set[str]]:
    """Locked name -> the apps that need it, directly or through other libraries."""
    users: dict[str, set[str]] = {}
    for app, requirements in per_app.items():
        todo = [r.name for r in requirements]
        seen: set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            users.setdefault(name, set()).add(app)
            todo.extend(needs.get(name, ()))
    return users


def _order(needs: Mapping[str, Collection[str]]) -> list[str]:
    """Names in dependency order (what a library needs comes first; ties by name)."""
    done: list[str] = []
    placed: set[str] = set()
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in placed:
            return
        if name in visiting:  # a requirement cycle: any order of its members will do
            return
        visiting.add(name)
        for other in sorted(needs[name]):
            visit(other)
        visiting.discard(name)
        placed.add(name)
        done.append(name)

    for name in sorted(needs):
        visit(name)
    return done
