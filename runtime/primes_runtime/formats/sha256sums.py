"""`releases/<vsn>/SHA256SUMS`: `<64 hex>  <path>` for every other file, sorted (sha256sum -c)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .errors import FormatError
from .hashing import HEX64, sha256_hex

NAME = "SHA256SUMS"


@dataclass(frozen=True)
class Sum:
    """One line: a file's path relative to the tree root and its sha256."""

    path: str
    sha256: str


def path_for(version: str) -> str:
    """Where a release's SHA256SUMS is in a package."""
    return f"releases/{version}/{NAME}"


def of_files(files: Mapping[str, bytes]) -> tuple[Sum, ...]:
    """The sums of every file, sorted by path."""
    return tuple(Sum(p, sha256_hex(files[p])) for p in sorted(files))


def render(sums: tuple[Sum, ...]) -> str:
    """One `<sha256>  <path>` line each, sorted by path."""
    return "".join(f"{s.sha256}  {s.path}\n" for s in sorted(sums, key=lambda s: s.path))


def parse(text: str, where: str) -> tuple[Sum, ...]:
    """Every line of a SHA256SUMS text; a FormatError names the bad line."""
    sums: list[Sum] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        digest, sep, path = line.partition("  ")
        if not sep or not HEX64.match(digest) or not path:
            raise FormatError("expected '<64 hex>  <path>'; the package is damaged",
                              file=where, line=number)  # fmt: skip
        if path.startswith("/") or ".." in path.split("/") or path in seen:
            raise FormatError(f"path {path!r} is absolute, escapes the tree or is listed twice",
                              file=where, line=number)  # fmt: skip
        seen.add(path)
        sums.append(Sum(path, digest))
    if not sums:
        raise FormatError("lists no file; the package is damaged", file=where)
    return tuple(sums)


def verify(files: Mapping[str, bytes], sums_path: str) -> tuple[Sum, ...]:
    """Check a package's files against its SHA256SUMS: it must exist and list every other file
    with a matching digest. Raises FormatError naming the first file that does not match."""
    if sums_path not in files:
        raise FormatError("SHA256SUMS is missing; rebuild the package", file=sums_path)
    digests = {p: sha256_hex(b) for p, b in files.items() if p != sums_path}
    return verify_digests(digests, files[sums_path], sums_path)


def verify_digests(digests: Mapping[str, str], sums: bytes, sums_path: str) -> tuple[Sum, ...]:
    """Check the sha256 of every file but SHA256SUMS (`digests`, path -> hex) against the
    SHA256SUMS bytes `sums`. Raises FormatError naming the first file that does not match."""
    try:
        text = sums.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError("is not UTF-8 text; the package is damaged", file=sums_path) from None
    parsed = parse(text, sums_path)
    listed = {s.path: (number, s.sha256) for number, s in enumerate(parsed, start=1)}
    for path in sorted(digests):
        if path == sums_path:
            continue
        if path not in listed:
            raise FormatError(f"{path} is not listed; rebuild the package", file=sums_path)
        number, digest = listed.pop(path)
        if digests[path] != digest:
            raise FormatError(
                f"{path} does not match its sha256; the package is damaged or tampered with",
                file=sums_path, line=number,
            )  # fmt: skip
    if listed:
        missing = sorted(listed)[0]
        raise FormatError(f"{missing} is listed in SHA256SUMS but missing; rebuild the package",
                          file=sums_path, line=listed[missing][0])  # fmt: skip
    return parsed
