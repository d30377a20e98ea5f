"""Earlier release packages: found in the output directory or given with -C previous=PATH."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version
from primes_runtime.formats import FormatError, sha256sums

from primes_build.errors import BuildError
from primes_build.package.tarball import read_targz
from primes_build.upgrade.release_view import ReleaseView


@dataclass(frozen=True)
class EarlierRelease:
    """An earlier release package, read into memory."""

    path: Path
    files: Mapping[str, bytes]
    manifest: Mapping[str, Any]

    @property
    def version(self) -> str:
        """The release version its manifest names."""
        return str(self.manifest["version"])

    def view(self) -> ReleaseView:
        """The upgrade planner's view of it."""
        return ReleaseView(
            manifest=self.manifest,
            read_source=source_reader(self.manifest, self.files),
            origin=str(self.path),
        )

    def lib_files(self, path: str) -> dict[str, bytes]:
        """The files of one code directory (`lib/<app>-<vsn>`), relative to it."""
        prefix = path.rstrip("/") + "/"
        return {k[len(prefix) :]: v for k, v in self.files.items() if k.startswith(prefix)}


def source_reader(
    manifest: Mapping[str, Any], files: Mapping[str, bytes]
) -> Callable[[str, str], bytes]:
    """read_source(app, module) over a release's files (the runtime counts as an app)."""
    paths = {str(a["name"]): str(a["path"]) for a in manifest.get("apps", [])}
    runtime = manifest.get("runtime") or {}
    if runtime:
        paths.setdefault(str(runtime["name"]), str(runtime["path"]))

    def read_source(app: str, module: str) -> bytes:
        base = paths[app]
        stem = module.replace(".", "/")
        for candidate in (f"{base}/{stem}.py", f"{base}/{stem}/__init__.py"):
            if candidate in files:
                return files[candidate]
        raise KeyError(f"{app}: no module {module}")

    return read_source


def _sort_key(release: EarlierRelease) -> tuple[int, Version | str]:
    try:
        return (0, Version(release.version))
    except InvalidVersion:
        return (1, release.version)


def read_package(path: Path) -> EarlierRelease:
    """Read a release package and check its SHA256SUMS."""
    files = read_targz(path)
    manifests = [p for p in files if p.startswith("releases/") and p.endswith("/release.json")]
    if len(manifests) != 1 or manifests[0].count("/") != 2:
        raise BuildError(f"{path}: not a release package (no single releases/<vsn>/release.json)")
    try:
        manifest = json.loads(files[manifests[0]])
    except ValueError as exc:
        raise BuildError(f"{path}: {manifests[0]} is not JSON ({exc})") from None
    if not isinstance(manifest, dict) or "version" not in manifest:
        raise BuildError(f"{path}: {manifests[0]} has no version")
    try:
        sha256sums.verify(files, manifests[0].rsplit("/", 1)[0] + "/SHA256SUMS")
    except FormatError as exc:
        raise BuildError(f"{path}: {exc}") from None
    return EarlierRelease(path=path, files=files, manifest=manifest)


def resolve(raw: str) -> Path:
    """A -C previous=PATH value: absolute, or relative to where the build was started ($PWD)."""
    path = Path(os.path.expanduser(raw))
    if not path.is_absolute():
        path = Path(os.environ.get("PWD") or os.getcwd()) / path
    return path


def find_earlier(
    outdir: Path, name: str, version: str, previous: Iterable[str], say: Callable[[str], None]
) -> list[EarlierRelease]:
    """Earlier packages of release `name` (not `version`), oldest first, one per version."""
    candidates: list[tuple[Path, bool]] = []
    for raw in previous:
        path = resolve(raw)
        if path.is_dir():
            candidates += [(p, True) for p in sorted(path.glob(f"{name}_*.tar.gz"))]
        elif path.is_file():
            candidates.append((path, True))
        else:
            raise BuildError(f"-C previous={raw}: no such file or directory ({path})")
    if outdir.is_dir():
        candidates += [(p, False) for p in sorted(outdir.glob(f"{name}_*.tar.gz"))]
    found: dict[str, EarlierRelease] = {}
    seen: set[Path] = set()
    for path, explicit in candidates:
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        release = read_package(path)
        if release.manifest.get("name") != name:
            if explicit:
                raise BuildError(
                    f"-C previous: {path} is a release of "
                    f"{release.manifest.get('name')!r}, not {name!r}"
                )
            continue
        if release.version == version:
            continue
        if release.version in found:
            say(
                f"    (ignoring {path}: release {release.version} already read from "
                f"{found[release.version].path})"
            )
            continue
        found[release.version] = release
    return sorted(found.values(), key=_sort_key)
