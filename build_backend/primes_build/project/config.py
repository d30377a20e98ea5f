"""primes.toml: the release definition, parsed and validated into frozen dataclasses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from primes_runtime.formats import manifest

from primes_build.project import nodeconfig, schema, tomlfile, versions
from primes_build.project.tomlfile import TomlFile

CONFIG_FILE = "primes.toml"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_APP = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RUNTIME_ELSEWHERE = (
    "; for a runtime checkout elsewhere, remove [runtime], `pip install -e` the checkout and "
    "build with `python -m build --no-isolation`"
)


@dataclass(frozen=True)
class Source:
    """A project (app or runtime) the release contains, as primes.toml lists it."""

    key: str
    """The TOML key path that lists it (`apps.frontman`, `runtime`)."""
    name: str
    """The app name primes.toml gives it (for the runtime: "")."""
    path: str
    """Its path as written (relative, POSIX)."""
    directory: Path
    """Its absolute source directory."""


@dataclass(frozen=True)
class ReleaseConfig:
    """A validated primes.toml."""

    doc: TomlFile
    """The parsed file, for messages pointing into it."""
    root: Path
    """The directory holding primes.toml."""
    name: str
    version: str
    requires_python: str
    python: str | None
    """The interpreter the release targets (`[release] python`, "3.12"); None: the building one."""
    runtime: Source | None
    """primes.toml's [runtime] project; None: the primes-runtime installed with primes-build."""
    apps: tuple[Source, ...]
    """In primes.toml order."""
    node: Mapping[str, Any]
    """The merged [node] table a release ships (defaults, name, primes.toml values)."""
    env: Mapping[str, Mapping[str, Any]]
    """primes.toml's [node.env.<app>] overrides."""

    @property
    def python_min(self) -> str:
        """The lowest Python `major.minor` the requires-python specifier allows ("3" if none)."""
        from packaging.specifiers import SpecifierSet
        from packaging.version import Version

        lows = [
            Version(s.version.rstrip(".*"))
            for s in SpecifierSet(self.requires_python)
            if s.operator in (">=", ">", "~=", "==", "===") and s.version.rstrip(".*")[:1].isdigit()
        ]
        if not lows:
            return "3"
        low = max(lows)
        return f"{low.major}.{low.release[1] if len(low.release) > 1 else 0}"


def load(root: Path) -> ReleaseConfig:
    """Read and validate root/primes.toml (and the node.toml defaults for the node keys)."""
    doc = tomlfile.load(root / CONFIG_FILE, CONFIG_FILE)
    data = doc.data
    schema.check_keys(doc, data, "", ["release", "runtime", "apps", "node"])
    if "release" not in data:
        raise doc.error("release", "missing the [release] table (name, version)")
    release = schema.table_of(doc, data, "", "release")
    schema.check_keys(doc, release, "release", ["name", "version", "requires-python", "python"])
    name = schema.get(doc, release, "release", "name", str, required=True)
    if not _NAME.match(name):
        raise doc.error("release.name", f"{name!r} must be letters, digits and _ (a letter first)")
    version = _version(doc, schema.get(doc, release, "release", "version", str, required=True))
    requires = schema.get(doc, release, "release", "requires-python", str, default=">=3.11")
    if not versions.is_specifier(requires):
        raise doc.error(
            "release.requires-python", f'{requires!r} is not a version specifier (e.g. ">=3.11")'
        )
    python = _python(doc, schema.get(doc, release, "release", "python", str), requires)

    runtime = None
    if "runtime" in data:
        runtime_table = schema.table_of(doc, data, "", "runtime")
        schema.check_keys(doc, runtime_table, "runtime", ["path"])
        runtime_path = schema.get(doc, runtime_table, "runtime", "path", str, default="runtime")
        runtime = _source(doc, root, "runtime.path", "", runtime_path)

    apps_table = schema.table_of(doc, data, "", "apps")
    apps = []
    for app, entry in apps_table.items():
        key = schema.join("apps", app)
        if not _APP.match(app):
            raise doc.error(key, f"app name {app!r} must be a Python identifier (e.g. prime_miner)")
        if not isinstance(entry, dict):
            raise doc.error(key, f"must be a table with `path`, not {schema.describe(entry)}")
        schema.check_keys(doc, entry, key, ["path"])
        path = schema.get(doc, entry, key, "path", str, required=True)
        apps.append(_source(doc, root, f"{key}.path", app, path))

    node_table = schema.table_of(doc, data, "", "node")
    defaults = nodeconfig.load_defaults(root)
    nodeconfig.check_node(doc, node_table, defaults)
    if python is not None and "python" not in node_table:
        defaults = {**defaults, "python": f"python{python}"}
    env = schema.table_of(doc, node_table, "node", "env")
    names = [a.name for a in apps]
    for app, overrides in env.items():
        key = schema.join("node.env", app)
        if app not in names:
            hint = schema.did_you_mean(app, names) or " (it is not listed under [apps])"
            raise doc.error(key, f"env for unknown app `{app}`{hint}")
        if not isinstance(overrides, dict):
            raise doc.error(key, f"must be a table of env keys, not {schema.describe(overrides)}")
    return ReleaseConfig(
        doc=doc,
        root=root,
        name=name,
        version=version,
        requires_python=requires,
        python=python,
        runtime=runtime,
        apps=tuple(apps),
        node=nodeconfig.merge(defaults, node_table, name),
        env=env,
    )


def _python(doc: TomlFile, python: str | None, requires: str) -> str | None:
    """`release.python`: `3.<minor>`, admitted by requires-python; None when absent."""
    if python is None:
        return None
    if not manifest.PYTHON.fullmatch(python):
        raise doc.error("release.python", f'{python!r} must be a Python version like "3.12"')
    if not versions.allows(requires, python):
        raise doc.error(
            "release.python",
            f"Python {python} is not allowed by requires-python {requires!r}; change one of them",
        )
    return python


def _version(doc: TomlFile, version: str) -> str:
    normal = versions.normal_form(version)
    if normal is None:
        raise doc.error("release.version", f'{version!r} is not a version (e.g. "2", "1.1")')
    if normal != version:
        raise doc.error("release.version", f"write {version!r} as {normal!r}")
    return version


def _source(doc: TomlFile, root: Path, key: str, name: str, path: str) -> Source:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or "\\" in path:
        hint = RUNTIME_ELSEWHERE if not name else ""
        raise doc.error(
            key,
            f"{path!r} must be a relative path inside the project (so the sdist carries it){hint}",
        )
    directory = root / pure
    what = f"app `{name}`" if name else "the runtime"
    if not directory.is_dir():
        raise doc.error(key, f"{what} not found: no directory {path!r}; fix the path")
    if not (directory / "pyproject.toml").is_file():
        raise doc.error(key, f"{what} not found: {path!r} has no pyproject.toml")
    return Source(key=key, name=name, path=pure.as_posix(), directory=directory)
