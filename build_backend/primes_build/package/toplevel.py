"""The top-level modules and packages each shipped distribution provides; no two may share one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from primes_build.errors import BuildError
from primes_build.wheels.modules import EXTENSION_SUFFIXES

MODULE_SUFFIXES = (".py", *EXTENSION_SUFFIXES)


@dataclass(frozen=True)
class Shipped:
    """One distribution of the release: the runtime, an app or a library, and its files."""

    what: str
    """How a message names it: `app prime_miner 1`, `library evilpm 1.0`."""
    files: Mapping[str, bytes]
    """Its code dir's files, by path relative to the dir."""


def provided(files: Mapping[str, bytes]) -> set[str]:
    """The importable names a code dir puts on sys.path: `pm` for pm.py or pm/__init__.py;
    below a namespace package (no __init__), the first regular module or package
    (`google.protobuf`), since namespace packages of several dirs merge."""
    names: set[str] = set()
    for path in files:
        parts = _module_parts(path)
        if parts is None:
            continue
        for depth in range(1, len(parts) + 1):
            if depth == len(parts) or _is_package(files, parts[:depth]):
                names.add(".".join(parts[:depth]))
                break
    return names


def refuse_shared(shipped: Sequence[Shipped]) -> None:
    """Refuse two distributions that provide the same module (or one inside the other's)."""
    owners: list[tuple[str, Shipped]] = [
        (name, item) for item in shipped for name in sorted(provided(item.files))
    ]
    for i, (name, item) in enumerate(owners):
        for other_name, other in owners[i + 1 :]:
            if other is item or not _overlap(name, other_name):
                continue
            shared = min(name, other_name, key=len)
            raise BuildError(
                f"{item.what} and {other.what} both provide the top-level module `{shared}`; "
                "one would shadow the other on the node's sys.path: rename one, or drop the "
                "dependency that ships it"
            )


def _overlap(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _module_parts(path: str) -> list[str] | None:
    """`pkg/sub.py` -> ["pkg", "sub"], `pkg/__init__.py` -> ["pkg"]; None if not a module."""
    suffix = next((s for s in MODULE_SUFFIXES if path.endswith(s)), None)
    if suffix is None:
        return None
    parts = path[: -len(suffix)].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(p.isidentifier() for p in parts):
        return None  # .dist-info, .data, __pycache__ entries and the like are not importable
    return parts


def _is_package(files: Mapping[str, bytes], parts: Sequence[str]) -> bool:
    """True if the directory `parts` is a regular package (it has an __init__)."""
    base = "/".join(parts) + "/__init__"
    return any(base + suffix in files for suffix in MODULE_SUFFIXES)
