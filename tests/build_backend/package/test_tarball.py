"""Tests of primes_build.package.tarball: reproducible, normalised archives."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest
from primes_build.errors import BuildError
from primes_build.package.tarball import targz_bytes

FILES = {"lib/a-1/a.py": b"x = 1\n", "bin/run": b"#!/bin/sh\n", "releases/1/x.json": b"{}\n"}


def members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return tar.getmembers()


def test_same_files_give_the_same_bytes_in_any_order() -> None:
    reordered = dict(reversed(list(FILES.items())))
    assert targz_bytes(FILES, lambda p: False) == targz_bytes(reordered, lambda p: False)


def test_entries_are_sorted_with_their_directories_and_normalised() -> None:
    found = members(targz_bytes(FILES, lambda p: p.startswith("bin/")))
    assert [m.name for m in found] == [
        "bin", "bin/run", "lib", "lib/a-1", "lib/a-1/a.py", "releases", "releases/1",
        "releases/1/x.json",
    ]  # fmt: skip
    modes = {m.name: m.mode for m in found}
    assert modes["bin/run"] == 0o755 and modes["lib"] == 0o755 and modes["lib/a-1/a.py"] == 0o644
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in found} == {(0, 0, "", "", 315532800)}


def test_source_date_epoch_sets_every_mtime_and_gzip_header_stays_zero(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    data = targz_bytes(FILES, lambda p: False)
    assert {m.mtime for m in members(data)} == {1700000000}
    assert data[4:8] == b"\0\0\0\0"  # gzip MTIME
    assert gzip.decompress(data)


@pytest.mark.parametrize("bad", ["/etc/passwd", "../x", "a/../b", "a//b", ""])
def test_unsafe_paths_are_refused(bad: str) -> None:
    with pytest.raises(BuildError, match="refusing archive path"):
        targz_bytes({bad: b""}, lambda p: False)
