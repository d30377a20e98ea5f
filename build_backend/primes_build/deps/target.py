"""The interpreter a release targets, as packaging sees it: its markers and its wheel tags."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from packaging.markers import Environment, Marker, default_environment
from packaging.tags import Tag, compatible_tags, cpython_tags, parse_tag, sys_tags

from primes_build.errors import BuildError
from primes_build.wheels.install import Installed


@dataclass(frozen=True)
class Target:
    """`[release] python` ("3.12"), or None for the interpreter running the build."""

    python: str | None = None

    @property
    def version(self) -> tuple[int, int]:
        """Its `(major, minor)`."""
        if self.python is None:
            return sys.version_info[0], sys.version_info[1]
        major, minor = self.python.split(".")
        return int(major), int(minor)

    @property
    def is_building(self) -> bool:
        """Whether the interpreter running the build is the target."""
        return self.version == tuple(sys.version_info[:2])

    def describe(self) -> str:
        """`Python 3.12` (for messages)."""
        return "Python {}.{}".format(*self.version)

    def environment(self) -> Environment:
        """The marker environment: this machine's, with the target's Python version (a
        target other than the building interpreter counts as its x.y.0 release)."""
        env = default_environment()
        if not self.is_building:
            python = "{}.{}".format(*self.version)
            env["python_version"] = python
            env["python_full_version"] = f"{python}.0"
            if env["implementation_name"] == "cpython":
                env["implementation_version"] = f"{python}.0"
        return env

    def holds(self, marker: Marker | None) -> bool:
        """Whether an environment marker holds for the target (no extras)."""
        values: dict[str, str | AbstractSet[str]] = {"extra": ""}
        values.update({key: str(value) for key, value in self.environment().items()})
        return marker is None or marker.evaluate(values)

    def tags(self) -> list[Tag]:
        """The wheel tags it loads, most preferred first (this machine's platforms)."""
        if self.is_building:
            return list(sys_tags())
        cp = "cp{}{}".format(*self.version)
        return [
            *cpython_tags(python_version=self.version),
            *compatible_tags(self.version, interpreter=cp),
        ]

    def loads(self, wheel_tags: Iterable[str]) -> bool:
        """Whether any of a wheel's `interpreter-abi-platform` tags fits the target."""
        mine = set(self.tags())
        return any(not mine.isdisjoint(parse_tag(tag)) for tag in wheel_tags)


def wheel_tags(files: Mapping[str, bytes]) -> tuple[str, ...]:
    """The `Tag:` lines of the `*.dist-info/WHEEL` among installed files (none: no WHEEL)."""
    for path, data in sorted(files.items()):
        parts = path.split("/")
        if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "WHEEL":
            lines = data.decode("utf-8", "replace").splitlines()
            return tuple(ln.partition(":")[2].strip() for ln in lines if ln.startswith("Tag:"))
    return ()


def refuse_foreign_wheel(name: str, installed: Installed, target: Target) -> None:
    """Refuse a project's wheel (built by the building interpreter) the target cannot load."""
    tags = wheel_tags(installed.files)
    if tags and not target.loads(tags):
        building = "{}.{}".format(*sys.version_info[:2])
        raise BuildError(
            f"{name} {installed.version}: its wheel ({', '.join(tags)}) cannot be loaded by "
            f"{target.describe()}, which the release runs on; build with Python "
            f"{target.python} (this build runs on {building})"
        )
