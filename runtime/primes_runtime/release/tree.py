"""The releases a node's tree holds: added by an unpack, made permanent, removed again."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from contextlib import AbstractContextManager
from pathlib import Path

from primes_runtime.host import config as node_config
from primes_runtime.host.node import Node

from . import argument, layout, store
from . import package as packages
from . import target as targets
from .errors import ReleaseError
from .store import StartData, StoredRelease

log = logging.getLogger("primes_runtime.release")


def staged(node: Node, package: Path) -> AbstractContextManager[packages.Package]:
    """The package verified into a staging dir, under the running release's [unpack] limits.

    The limits are read from its node.toml at each unpack, so raising one needs no restart.
    """
    root = Path(node.root)
    limits = node_config.load(root, node.release).unpack
    return packages.staged(package, root, limits, node.warm)


def add(node: Node, pkg: packages.Package) -> tuple[str, list[str]]:
    """Unpack a verified package; return its version and the tree dirs it added."""
    package = pkg.source
    root = Path(node.root)
    running = targets.load(root, node.release)
    if pkg.name != running.name:
        raise ReleaseError(
            f"{package}: is a package of release {pkg.name!r}, this node runs "
            f"{running.name!r}; unpack it into its own tree"
        )
    releases = store.read_releases(root)
    if any(r.version == pkg.version for r in releases):
        raise ReleaseError(
            f"{package}: release {pkg.version} is already known to this node "
            f"({status_of(node, releases, pkg.version)}); uninstall it first to unpack again"
        )
    added = packages.extract(pkg, root)
    try:  # until RELEASES lists it, the release's dirs are garbage
        store.commit(root, releases, (*releases, StoredRelease(pkg.version, "unpacked")))
    except OSError:
        discard(root, added)
        raise
    return pkg.version, added


def unpacked_version(node: Node, package_or_version: str) -> tuple[str, list[str]]:
    """The version to install, unpacking it first if needed (with the dirs that added)."""
    root = Path(node.root)
    releases = store.read_releases(root)
    known = {r.version for r in releases}
    given = Path(package_or_version)
    if argument.is_package_path(package_or_version):
        if not given.is_file():
            raise ReleaseError(f"{given}: no such package file; give a package path or a version")
        with staged(node, given) as pkg:
            if pkg.version in known:
                _same_as_unpacked(node, releases, pkg)
                return pkg.version, []
            return add(node, pkg)
    if package_or_version in known:
        return package_or_version, []
    name = targets.load(root, node.release).name
    candidate = root / "releases" / f"{name}_{package_or_version}.tar.gz"
    if candidate.is_file():
        with staged(node, candidate) as pkg:
            return add(node, pkg)
    raise ReleaseError(
        f"release {package_or_version} is not unpacked and {candidate} does not exist; "
        "give the package's path"
    )


def _same_as_unpacked(
    node: Node, releases: tuple[StoredRelease, ...], pkg: packages.Package
) -> None:
    """Refuse a package whose version this tree already holds with other content."""
    vsn = pkg.version
    sums = targets.release_dir(Path(node.root), vsn) / "SHA256SUMS"
    try:
        same = sums.read_bytes() == pkg.sums()
    except OSError:
        same = False
    if not same:
        status = status_of(node, releases, vsn)
        removable = status in ("unpacked", "old") and vsn != node.release
        raise ReleaseError(
            f"{pkg.source}: release {vsn} is already {status} here, from a different package "
            f"(releases/{vsn}/SHA256SUMS differs); give the new build a new release version"
            + (f", or uninstall {vsn} first" if removable else "")
        )


def forget(node: Node, version: str, added: list[str]) -> None:
    """Undo an unpack: drop the release from RELEASES and remove the dirs it added."""
    root = Path(node.root)
    releases = store.read_releases(root)
    store.commit(root, releases, tuple(r for r in releases if r.version != version))
    discard(root, added)


def discard(root: Path, rel_dirs: list[str]) -> None:
    """Move the dirs of a release RELEASES no longer lists aside into one trash dir (each a
    rename; releases/<vsn> last, so until then it names the rest), then delete it. A failure
    leaves them to the next recovery pass: the commit (RELEASES) is done."""
    outside = [d for d in rel_dirs if not layout.is_removable(d)]
    if outside:
        log.warning("not removing %s: outside lib/ and releases/", ", ".join(outside))
    kept = [d for d in rel_dirs if d not in outside]
    ordered = sorted(kept, key=lambda d: d.startswith("releases/"))
    try:
        trash = Path(tempfile.mkdtemp(prefix=".uninstall-", dir=root / "releases"))
        for index, rel_dir in enumerate(ordered):
            source = root / rel_dir
            if source.exists():
                os.rename(source, trash / str(index))
        shutil.rmtree(trash)
    except OSError as exc:
        log.warning("removing %s: %s; the next recovery pass removes the rest",
                    ", ".join(rel_dirs), exc)  # fmt: skip


def mark_permanent(node: Node, version: str) -> None:
    """Make the current release the one a start boots (the caller holds the release lock)."""
    root = Path(node.root)
    if version != node.release:
        raise ReleaseError(
            f"release {version} is not current (current is {node.release}); install it first"
        )
    releases = store.read_releases(root)
    release = targets.load(root, version)
    updated = tuple(
        StoredRelease(r.version, "old" if r.status == "permanent" else r.status)
        if r.version != version
        else StoredRelease(version, "permanent")
        for r in releases
    )
    if not any(r.version == version for r in updated):
        updated = (*updated, StoredRelease(version, "permanent"))
    try:
        before: StartData | None = store.read_start_data(root)  # recovery made it agree
    except ReleaseError:
        before = None  # unreadable: nothing to put back, the new one replaces it
    new = StartData(version, release.runtime_dir)
    store.commit(root, releases, updated, (before, new))


def permanent(node: Node) -> str:
    """The release a start boots (the running one if RELEASES names none)."""
    releases = store.read_releases(Path(node.root))
    return next((r.version for r in releases if r.status == "permanent"), node.release)


def status_of(node: Node, releases: tuple[StoredRelease, ...], version: str) -> str:
    """A release's status: unpacked, current, permanent, old, or unknown (not listed)."""
    for r in releases:
        if r.version == version:
            return "current" if version == node.release and r.status != "permanent" else r.status
    return "unknown"


def known(node: Node, version: str) -> None:
    """Refuse a release RELEASES does not list."""
    releases = store.read_releases(Path(node.root))
    if not any(r.version == version for r in releases):
        raise ReleaseError(f"release {version} is not unpacked; unpack its package first")
