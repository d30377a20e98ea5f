"""The manifest's `libraries` (deps, issue 14): read in dependency order, checked."""

from __future__ import annotations

from typing import Any

import pytest
from primes_runtime.errors import ConfigError
from primes_runtime.host import manifest


def release(libraries: object) -> dict[str, Any]:
    return {
        "format": 1,
        "name": "primenode",
        "version": "2",
        "runtime": {"name": "primes_runtime", "version": "1", "path": "lib/primes_runtime-1"},
        "apps": [],
        "libraries": libraries,
    }


def library(name: str, requires: list[str]) -> dict[str, Any]:
    return {
        "name": name, "version": "1.0", "path": f"lib/{name}-1.0", "wheel": f"{name}.whl",
        "tags": ["py3-none-any"], "requires": requires, "used_by": ["app"],
        "modules": {name: "ab" * 32}, "extensions": {},
    }  # fmt: skip


def test_libraries_are_read_in_their_order_with_tags_and_users() -> None:
    read = manifest.parse(release([library("base", []), library("top", ["base"])]))
    assert [lib.name for lib in read.libraries] == ["base", "top"]
    assert read.libraries[1].requires == ("base",)
    assert read.libraries[1].tags == ("py3-none-any",)
    assert read.libraries[1].path == "lib/top-1.0"


def test_a_manifest_without_libraries_has_none() -> None:
    data = release([])
    del data["libraries"]
    assert manifest.parse(data).libraries == ()


def test_a_library_before_one_it_requires_is_refused() -> None:
    with pytest.raises(ConfigError, match="library 'top' requires 'base', which does not come"):
        manifest.parse(release([library("top", ["base"]), library("base", [])]))


def test_libraries_that_are_not_a_list_are_refused() -> None:
    with pytest.raises(ConfigError, match="key 'libraries' must be a list"):
        manifest.parse(release({"base": {}}))
