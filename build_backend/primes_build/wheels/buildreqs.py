"""Build requirements: which ones this environment lacks, and what a frontend should install."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

OURS = ("jinja2>=3.1", "packaging>=26.4", "installer>=0.7")
"""What primes-build itself imports while it builds a wheel (the sdist needs the stdlib only)."""
OUR_MODULES = ("jinja2", "packaging", "installer")
BUILD = "build>=1.2"
"""For an isolated env of an app whose requirements the build env lacks, or a locked sdist."""
SETUPTOOLS_DEFAULT = "setuptools>=40.8.0"
"""PEP 517's fallback when a project has no [build-system] requires."""
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def build_system(pyproject: Path) -> dict[str, Any]:
    """The [build-system] table of a pyproject.toml ({} when it is missing or unreadable)."""
    try:
        with open(pyproject, "rb") as f:
            table = tomllib.load(f).get("build-system", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return table if isinstance(table, dict) else {}


def declared(pyproject: Path) -> list[str]:
    """A project's [build-system] requires (PEP 518's setuptools default when it has none)."""
    requires = build_system(pyproject).get("requires", [SETUPTOOLS_DEFAULT])
    return [r for r in requires if isinstance(r, str)] if isinstance(requires, list) else []


def project_dirs(root: Path) -> list[Path]:
    """The runtime's and the apps' directories primes.toml names (stdlib only, unchecked)."""
    try:
        with open(root / "primes.toml", "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return []
    tables = [data.get("runtime")] if "runtime" in data else []
    apps = data.get("apps", {})
    tables += list(apps.values()) if isinstance(apps, dict) else []
    return [
        root / t["path"] for t in tables if isinstance(t, dict) and isinstance(t.get("path"), str)
    ]


def frontend_requires(root: Path) -> list[str]:
    """What get_requires_for_build_wheel asks the frontend to install.

    primes-build's own imports always. In a fresh environment (those are not installed yet:
    `python -m build`'s isolated env, whose [build-system] requires is empty) also every
    project's build requirements, so one install serves every app and no app needs an env of
    its own; a requirement two projects spell differently is left to a per-app env. Where
    primes-build's imports are already installed (`--no-isolation`, or an isolated env that
    installed primes-build itself) no app's requirements are asked for: an app whose
    requirements are missing there gets an isolated env of its own, and `build` (not a
    dependency of primes-build) is asked for to make it.
    """
    wanted = list(OURS)
    if (root / "pylock.toml").is_file():
        wanted.append(BUILD)
    if all(importlib.util.find_spec(m) is not None for m in OUR_MODULES):
        dirs = project_dirs(root)
        if BUILD not in wanted and any(unmet(declared(d / "pyproject.toml")) for d in dirs):
            wanted.append(BUILD)
        return wanted
    spellings: dict[str, set[str]] = {}
    for directory in project_dirs(root):
        for requirement in declared(directory / "pyproject.toml"):
            match = _NAME.match(requirement)
            if match:
                key = re.sub(r"[-_.]+", "-", match.group(1)).lower()
                spellings.setdefault(key, set()).add(requirement.strip())
    shared = sorted(next(iter(s)) for s in spellings.values() if len(s) == 1)
    if len(shared) < len(spellings) and BUILD not in wanted:
        wanted.append(BUILD)
    return wanted + [r for r in shared if r not in wanted]


def unmet(requirements: Iterable[str]) -> list[str]:
    """The requirements this environment does not satisfy (an invalid one counts as unmet)."""
    from packaging.requirements import InvalidRequirement, Requirement

    missing = []
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            missing.append(text)
            continue
        if not _met(requirement, "", frozenset()):
            missing.append(text)
    return missing


def _met(requirement: Any, extra: str, seen: frozenset[str]) -> bool:
    """Whether `requirement` (a packaging Requirement) and its extras are installed."""
    from importlib import metadata

    from packaging.requirements import InvalidRequirement, Requirement

    if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
        return True
    try:
        dist = metadata.distribution(requirement.name)
    except metadata.PackageNotFoundError:
        return False
    if not requirement.specifier.contains(dist.version, prereleases=True):
        return False
    name = requirement.name.lower()
    for wanted_extra in sorted(requirement.extras):
        if f"{name}[{wanted_extra}]" in seen:
            continue
        for text in dist.requires or []:
            try:
                sub = Requirement(text)
            except InvalidRequirement:
                return False
            if sub.marker is None or not sub.marker.evaluate({"extra": wanted_extra}):
                continue
            if not _met(sub, wanted_extra, seen | {f"{name}[{wanted_extra}]"}):
                return False
    return True
