"""Assemble the release package <name>_<vsn>.tar.gz: build, install and describe every project."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from primes_runtime.formats import FormatError, releases, relup, sha256sums, start_data
from primes_runtime.formats.hashing import sha256_hex

from primes_build import deps
from primes_build.deps import libraries as deps_libraries
from primes_build.deps.target import Target, refuse_foreign_wheel
from primes_build.errors import BuildError
from primes_build.package import guard, manifest, startscript, toplevel
from primes_build.package import reuse as deps_reuse
from primes_build.package.previous import EarlierRelease, find_earlier, source_reader
from primes_build.package.tarball import read_targz, targz_bytes, write_atomic
from primes_build.project import config as config_mod
from primes_build.project import nodeconfig, tomlfile
from primes_build.project.appmeta import read_app, read_project_name
from primes_build.project.config import ReleaseConfig, Source
from primes_build.project.order import start_order
from primes_build.upgrade import Script, plan_upgrades
from primes_build.upgrade.release_view import ReleaseView
from primes_build.wheels.builds import Builds, Built
from primes_build.wheels.cache import WheelCache
from primes_build.wheels.install import Installed, install_wheel
from primes_build.wheels.runtimesource import installed_runtime
from primes_build.wheels.wheelbuild import WheelBuildFailed

Say = Callable[[str], None]


@dataclass(frozen=True)
class BuiltRelease:
    """A release package written to the output directory."""

    path: Path
    data: bytes
    version: str


def package_name(name: str, version: str) -> str:
    """`primenode_2.tar.gz`."""
    return f"{name}_{version}.tar.gz"


def build_release(
    root: Path,
    outdir: Path,
    previous: Sequence[str],
    say: Say,
    wheelhouse: Path | None = None,
    builds: Builds | None = None,
) -> BuiltRelease:
    """Build every project of root/primes.toml and write the release package into `outdir`.

    `builds`: wheel builds already under way (the wheel hook starts them early); by default
    they start here, once primes.toml is validated.
    """
    if builds is None:
        with Builds() as own:
            return build_release(root, outdir, previous, say, wheelhouse, own)
    guard.refuse_deployed(outdir)
    config = config_mod.load(root)
    metas = start_order([read_app(source) for source in config.apps])
    outdir.mkdir(parents=True, exist_ok=True)
    earlier = find_earlier(outdir, config.name, config.version, previous, say)
    cache = WheelCache(outdir)

    runtime_source, shipped = _runtime(config, say)
    sources = {s.name: s for s in config.apps}
    projects = [(sources[meta.name], meta.name) for meta in metas]
    if runtime_source is not None:
        projects.insert(0, (runtime_source, "primes_runtime"))
    built = _build_projects(projects, cache, say, builds)
    runtime = shipped if shipped is not None else built.pop(0)
    sources_by_lib = {runtime.name: runtime_source, **sources} if runtime_source else sources
    apps = list(zip(metas, built, strict=True))
    for meta, installed in apps:
        if installed.name != meta.name:
            raise BuildError(
                f"{sources[meta.name].path}: its wheel is `{installed.name}`, not "
                f"`{meta.name}`; check [project] name"
            )
    # The locked third-party libraries (pylock.toml), after the apps that need them
    app_docs = [(meta.name, meta.doc) for meta in metas]
    python = Target(config.python)
    for name, installed in [(runtime.name, runtime), *((m.name, i) for m, i in apps)]:
        refuse_foreign_wheel(name, installed, python)
    libraries = deps.ship_libraries(config.root, outdir, app_docs, wheelhouse, say, python)
    libraries = deps_reuse.settle(libraries, earlier, say)
    toplevel.refuse_shared(
        [
            toplevel.Shipped(f"the runtime {runtime.name} {runtime.version}", runtime.files),
            *(toplevel.Shipped(f"app {m.name} {i.version}", i.files) for m, i in apps),
            *(toplevel.Shipped(f"library {x.name} {x.version}", x.files) for x in libraries),
        ]
    )
    say(f"==> release {config.name} {config.version}")
    _note_runtime_change(runtime.version, earlier, say)
    libs = {manifest.lib_path(i.name, i.version): i for i in [runtime] + [i for _, i in apps]}
    lib_files = _settle_versions(libs, earlier, sources_by_lib, say)

    files: dict[str, bytes] = {}
    for lib, contents in lib_files.items():
        files.update({f"{lib}/{rel}": data for rel, data in contents.items()})
    for library in libraries:
        files.update({f"{library.path}/{rel}": data for rel, data in library.files.items()})
    entries = [deps_libraries.manifest_entry(library) for library in libraries]  # deps
    runtime = _with_files(runtime, lib_files[manifest.lib_path(runtime.name, runtime.version)])
    apps = [(m, _with_files(i, lib_files[manifest.lib_path(i.name, i.version)])) for m, i in apps]

    rel = f"releases/{config.version}"
    files[f"bin/{config.name}"] = startscript.render(config)
    files[f"{rel}/{config.name}@.service"] = startscript.render(config, startscript.UNIT)
    files[f"{rel}/node.toml"] = nodeconfig.render(config.node, config.env).encode("utf-8")
    permanent = releases.Release(config.version, "permanent")
    files[releases.PATH] = releases.render((permanent,)).encode("utf-8")
    runtime_dir = manifest.lib_path(runtime.name, runtime.version)
    boot = start_data.StartData(config.version, runtime_dir)
    files[start_data.PATH] = start_data.render(boot).encode("utf-8")

    draft = manifest.build_manifest(config, runtime, apps, libraries=entries)
    files[f"{rel}/release.json"] = manifest.dumps(draft).encode("utf-8")
    new_view = ReleaseView(
        manifest=draft, read_source=source_reader(draft, files), origin="this build"
    )
    scripts = _plan_upgrades(config, new_view, earlier, say)
    upgrades: dict[str, list[str]] = {"up_from": [], "down_to": []}
    hashes = {e.version: sha256_hex(e.files[f"releases/{e.version}/release.json"]) for e in earlier}
    for script in sorted(scripts, key=lambda s: (s.kind == "down", s.path)):
        upgrades["up_from" if script.kind == "up" else "down_to"].append(script.other)
        files[script.path] = _written(script, hashes[script.other])
        say(f"    {script.path}")
    final = manifest.build_manifest(config, runtime, apps, upgrades, libraries=entries)
    files[f"{rel}/release.json"] = manifest.dumps(final).encode("utf-8")
    sums = sha256sums.render(sha256sums.of_files(files))
    files[f"{rel}/SHA256SUMS"] = sums.encode("utf-8")

    data = targz_bytes(files, executable=lambda p: p.startswith("bin/"))
    target = outdir / package_name(config.name, config.version)
    refuse_a_different_package(target, data, files)
    write_atomic(target, data)
    say(f"    wrote {target}")
    return BuiltRelease(path=target, data=data, version=config.version)


def _written(script: Script, against_sha256: str) -> bytes:
    """The script's text, read back and checked by the runtime's own reader before it is kept."""
    text = script.render(against_sha256)
    try:
        relup.check(relup.parse(text, Path(script.path)))
    except FormatError as exc:
        raise BuildError(f"internal error: the build wrote an invalid script: {exc}") from None
    return text.encode("utf-8")


def refuse_a_different_package(target: Path, data: bytes, files: Mapping[str, bytes]) -> None:
    """Refuse to overwrite a package of the same name unless it holds the same files."""
    if not target.exists():
        return
    try:
        if target.read_bytes() == data or read_targz(target) == dict(files):
            return
    except (OSError, BuildError):
        pass
    raise BuildError(
        f"{target} already exists with different content; a released package never changes: "
        "bump release.version in primes.toml (or delete that file if it was never deployed)"
    )


def _check_runtime_name(runtime: Source) -> None:
    doc, name = read_project_name(runtime)
    if name != "primes_runtime":
        raise doc.error("project.name", f"the runtime must be `primes-runtime`, not `{name}`")


def _note_runtime_change(version: str, earlier: Sequence[EarlierRelease], say: Say) -> None:
    """Say that a runtime change takes effect at the node's next restart (never hot-swapped)."""
    for old in earlier:
        theirs = str(old.manifest.get("runtime", {}).get("version", ""))
        if theirs and theirs != version:
            say(
                f"    primes_runtime {theirs} -> {version} (from release {old.version}): "
                "an upgrade keeps the running runtime; the node runs the new one after a restart"
            )


def _runtime(config: ReleaseConfig, say: Say) -> tuple[Source | None, Installed | None]:
    """The runtime: primes.toml's [runtime] project, else the one installed with primes-build
    (its checkout's project when it is an editable install, to be built like an app)."""
    if config.runtime is not None:
        _check_runtime_name(config.runtime)
        return config.runtime, None
    found = installed_runtime()
    if found.checkout is not None:
        _check_runtime_name(found.checkout)
        return found.checkout, None
    assert found.installed is not None
    say(f"==> primes_runtime {found.version} (installed with primes-build)")
    return None, found.installed


def _build_projects(
    projects: Sequence[tuple[Source, str]], cache: WheelCache, say: Say, builds: Builds
) -> list[Installed]:
    """Each project installed from its wheel: the cached one when its sources did not change,
    else one built now (or taken from `builds`, where the wheel hook started it early)."""
    keys = [builds.source_key(source.directory) for source, _ in projects]
    wheels = [cache.lookup(name, key) for (_, name), key in zip(projects, keys, strict=True)]
    futures: dict[int, Built] = {}
    for i, ((source, name), key) in enumerate(zip(projects, keys, strict=True)):
        if wheels[i] is None:
            taken = builds.take(name, source.directory, key)
            futures[i] = taken or builds.start(name, source.directory, key, source.path)
    installed = {i: install_wheel(w) for i, w in enumerate(wheels) if w is not None}
    notes = {i: "reused" for i in installed}  # the cached ones installed while the others build
    for i, future in futures.items():
        try:
            fresh, isolated = future.result()
        except WheelBuildFailed as exc:
            exc.show()
            raise
        installed[i] = install_wheel(cache.store(projects[i][1], keys[i], fresh))
        notes[i] = "wheel, isolated build env" if isolated else "wheel"
    for i in range(len(projects)):
        say(f"==> {installed[i].name} {installed[i].version} ({notes[i]})")
    return [installed[i] for i in range(len(projects))]


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
                if installed.name not in sources:
                    raise BuildError(
                        f"the installed primes-runtime {installed.version} differs from the one "
                        f"release {old.version} ({old.path}) ships under the same version; "
                        "build with the primes-build that built it, or a newer one"
                    )
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
) -> list[Script]:
    """The up and down scripts between this release and every earlier one."""
    if not earlier:
        return []
    app_sources = {s.name: s.directory for s in config.apps}
    return plan_upgrades(new, [e.view() for e in earlier], app_sources, say)
