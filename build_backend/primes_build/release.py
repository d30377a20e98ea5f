"""Assemble the release package <name>_<vsn>.tar.gz: build, install and describe every project."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from primes_build import config as config_mod
from primes_build import guard, manifest, nodeconfig, startscript, tomlfile
from primes_build.appmeta import read_app, read_project_name
from primes_build.cache import WheelCache, source_key
from primes_build.config import ReleaseConfig, Source
from primes_build.errors import BuildError
from primes_build.install import Installed, install_wheel
from primes_build.order import start_order
from primes_build.previous import EarlierRelease, find_earlier, source_reader
from primes_build.release_view import ReleaseView
from primes_build.tarball import targz_bytes, write_atomic
from primes_build.wheelbuild import build_wheel

Say = Callable[[str], None]
PlanUpgrades = Callable[..., dict[str, str]]
_RELUP = re.compile(r"^releases/(?P<vsn>[^/]+)/(?P<kind>up_from|down_to)_(?P<old>[^/]+)\.relup$")


@dataclass(frozen=True)
class BuiltRelease:
    """A release package written to the output directory."""

    path: Path
    data: bytes
    version: str


def package_name(name: str, version: str) -> str:
    """`primenode_2.tar.gz`."""
    return f"{name}_{version}.tar.gz"


def build_release(root: Path, outdir: Path, previous: Sequence[str], say: Say) -> BuiltRelease:
    """Build every project of root/primes.toml and write the release package into `outdir`."""
    guard.refuse_deployed(outdir)
    config = config_mod.load(root)
    metas = start_order([read_app(source) for source in config.apps])
    _check_runtime_name(config.runtime)
    outdir.mkdir(parents=True, exist_ok=True)
    earlier = find_earlier(outdir, config.name, config.version, previous, say)
    cache = WheelCache(outdir)

    runtime = _build_project(config.runtime, "primes_runtime", cache, say)
    sources = {s.name: s for s in config.apps}
    sources_by_lib = {runtime.name: config.runtime, **sources}
    apps = [(meta, _build_project(sources[meta.name], meta.name, cache, say)) for meta in metas]
    for meta, installed in apps:
        if installed.name != meta.name:
            raise BuildError(
                f"{sources[meta.name].path}: its wheel is `{installed.name}`, not "
                f"`{meta.name}`; check [project] name"
            )
    say(f"==> release {config.name} {config.version}")
    libs = {manifest.lib_path(i.name, i.version): i for i in [runtime] + [i for _, i in apps]}
    lib_files = _settle_versions(libs, earlier, sources_by_lib, say)

    files: dict[str, bytes] = {}
    for lib, contents in lib_files.items():
        files.update({f"{lib}/{rel}": data for rel, data in contents.items()})
    runtime = _with_files(runtime, lib_files[manifest.lib_path(runtime.name, runtime.version)])
    apps = [(m, _with_files(i, lib_files[manifest.lib_path(i.name, i.version)])) for m, i in apps]

    rel = f"releases/{config.version}"
    files[f"bin/{config.name}"] = startscript.render(config)
    if startscript.has_template(config.root, startscript.UNIT):  # fleet: the systemd unit
        files[f"{rel}/{config.name}@.service"] = startscript.render(config, startscript.UNIT)
    files[f"{rel}/node.toml"] = nodeconfig.render(config.node, config.env).encode("utf-8")
    releases = {"format": 1, "releases": [{"status": "permanent", "version": config.version}]}
    files["releases/RELEASES"] = (json.dumps(releases, indent=2, sort_keys=True) + "\n").encode()
    runtime_dir = manifest.lib_path(runtime.name, runtime.version)
    files["releases/start_data"] = f"{config.version} {runtime_dir}\n".encode()

    draft = manifest.build_manifest(config, runtime, apps)
    files[f"{rel}/release.json"] = manifest.dumps(draft).encode("utf-8")
    new_view = ReleaseView(
        manifest=draft, read_source=source_reader(draft, files), origin="this build"
    )
    scripts = _plan_upgrades(config, new_view, earlier, say)
    upgrades: dict[str, list[str]] = {"up_from": [], "down_to": []}
    for path, text in sorted(scripts.items(), key=lambda item: ("down_to" in item[0], item[0])):
        found = _RELUP.match(path)
        if not found or found.group("vsn") != config.version:
            raise BuildError(
                f"upgrade planner returned {path!r}, not {rel}/(up_from|down_to)_<vsn>.relup"
            )
        upgrades[found.group("kind")].append(found.group("old"))
        files[path] = text.encode("utf-8")
        say(f"    {path}")
    final = manifest.build_manifest(config, runtime, apps, upgrades)
    files[f"{rel}/release.json"] = manifest.dumps(final).encode("utf-8")
    files[f"{rel}/SHA256SUMS"] = sha256sums(files).encode("utf-8")

    data = targz_bytes(files, executable=lambda p: p.startswith("bin/"))
    target = outdir / package_name(config.name, config.version)
    write_atomic(target, data)
    say(f"    wrote {target}")
    return BuiltRelease(path=target, data=data, version=config.version)


def sha256sums(files: Mapping[str, bytes]) -> str:
    """`<sha256>  <path>` for every file, sorted by path (sha256sum -c format)."""
    return "".join(f"{hashlib.sha256(files[p]).hexdigest()}  {p}\n" for p in sorted(files))


def _check_runtime_name(runtime: Source) -> None:
    doc, name = read_project_name(runtime)
    if name != "primes_runtime":
        raise doc.error("project.name", f"the runtime must be `primes-runtime`, not `{name}`")


def _build_project(source: Source, name: str, cache: WheelCache, say: Say) -> Installed:
    key = source_key(source.directory)
    wheel = cache.lookup(name, key)
    if wheel is not None:
        installed = install_wheel(wheel)
        say(f"==> {installed.name} {installed.version} (reused)")
        return installed
    with tempfile.TemporaryDirectory(prefix="primes-wheel-") as temp:
        built, isolated = build_wheel(source.directory, Path(temp), source.path)
        wheel = cache.store(name, key, built)
    installed = install_wheel(wheel)
    how = "wheel, isolated build env" if isolated else "wheel"
    say(f"==> {installed.name} {installed.version} ({how})")
    return installed


def _with_files(installed: Installed, files: dict[str, bytes]) -> Installed:
    return Installed(name=installed.name, version=installed.version, files=files)


def _code(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """A code dir's files without its .dist-info (metadata may differ between build tools)."""
    return {p: d for p, d in files.items() if ".dist-info/" not in p}


def _settle_versions(
    libs: Mapping[str, Installed],
    earlier: Sequence[EarlierRelease],
    sources: Mapping[str, Source],
    say: Say,
) -> dict[str, dict[str, bytes]]:
    """Each code dir's files; an app version an earlier release has must have the same code.

    Same code: the earlier package's directory is reused byte for byte (a node that has it
    must find it hash-equal). Different code under the same version: "bump its version".
    """
    settled = {lib: dict(installed.files) for lib, installed in libs.items()}
    for old in earlier:
        for lib, installed in libs.items():
            theirs = old.lib_files(lib)
            if not theirs:
                continue
            if _code(theirs) != _code(settled[lib]):
                source = sources[installed.name]
                shown = f"{source.path}/pyproject.toml"
                doc = tomlfile.load(source.directory / "pyproject.toml", shown)
                raise doc.error(
                    "project.version",
                    f"{installed.name} changed since release {old.version} ({old.path}) but its "
                    f"version is still {installed.version}; bump its version",
                )
            if theirs != settled[lib]:
                settled[lib] = theirs
                say(f"    {lib}: same code as in {old.path.name}, its files reused")
    return settled


def _plan_upgrades(
    config: ReleaseConfig, new: ReleaseView, earlier: Sequence[EarlierRelease], say: Say
) -> dict[str, str]:
    """Call primes_build.upgrade.plan_upgrades when it exists; {} (and a note) otherwise."""
    if not earlier:
        return {}
    planner = _planner()
    if planner is None:
        versions = ", ".join(e.version for e in earlier)
        say(f"    no upgrade planner yet (primes_build.upgrade): no .relup for {versions}")
        return {}
    app_sources = {s.name: s.directory for s in config.apps}
    result = planner(new, [e.view() for e in earlier], app_sources, say)
    if not isinstance(result, dict):
        raise BuildError("upgrade planner returned no {path: text} mapping")
    return result


def _planner() -> PlanUpgrades | None:
    if importlib.util.find_spec("primes_build.upgrade") is None:
        return None
    module: Any = importlib.import_module("primes_build.upgrade")
    planner: PlanUpgrades | None = getattr(module, "plan_upgrades", None)
    return planner
