"""Package bombs against a node started with bin/primenode under a 1 GiB address-space limit."""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import COUNTER_V2, DEMO_APP, DOWN_TO_1, UP_FROM_1, Script, build_tree, manifest

pytestmark = pytest.mark.e2e

GIB = 1 << 30


MIB = 1 << 20
_ZERO_MIB = bytes(MIB)

Stream = Iterator[bytes | int]
"""A tar stream in pieces: bytes as they are, an int for that many zero bytes."""


class Gzip:
    """A gzip file (deflate level 6), where a run of zeros costs no compression: after a full
    flush every MiB of zeros deflates to the same block, made once (a 2 GiB member is 2 MB in
    well under a second, instead of 6 s of deflate)."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("wb")
        self.file.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")  # no name, no mtime
        self.deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        self.crc = 0
        self.size = 0

    def write(self, data: bytes) -> int:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        self.file.write(self.deflate.compress(data))
        return len(data)

    def zeros(self, count: int) -> None:
        self.file.write(self.deflate.flush(zlib.Z_FULL_FLUSH))  # nothing after refers back
        fresh = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        block = fresh.compress(_ZERO_MIB) + fresh.flush(zlib.Z_FULL_FLUSH)
        whole, rest = divmod(count, MIB)
        for _ in range(whole):
            self.crc = zlib.crc32(_ZERO_MIB, self.crc)
            self.file.write(block)
        self.size += whole * MIB
        self.write(bytes(rest))

    def close(self) -> None:
        self.file.write(self.deflate.flush())
        self.file.write(struct.pack("<II", self.crc, self.size & 0xFFFFFFFF))
        self.file.close()


def release_files() -> dict[str, bytes]:
    """The files of a valid release 2 of the demo node, SHA256SUMS included."""
    files = {
        "releases/2/release.json": manifest("2", "2", {"up_from": ["1"], "down_to": ["1"]}),
        "releases/2/node.toml": '[node]\nname = "testnode"\n',
        "releases/2/up_from_1.relup": UP_FROM_1,
        "releases/2/down_to_1.relup": DOWN_TO_1,
        **{
            f"lib/demo_app-2/{rel}": text
            for rel, text in {**DEMO_APP, "demo_app/counter.py": COUNTER_V2}.items()
        },
    }
    data = {path: text.encode() for path, text in files.items()}
    data["releases/2/SHA256SUMS"] = "".join(
        f"{hashlib.sha256(body).hexdigest()}  {path}\n" for path, body in sorted(data.items())
    ).encode()
    return data


def write_package(path: Path, extra: Stream) -> Path:
    """A package whose first members are `extra`, then a valid release 2."""
    out = Gzip(path)
    try:
        for piece in extra:
            if isinstance(piece, int):
                out.zeros(piece)
            else:
                out.write(piece)
        with tarfile.open(fileobj=out, mode="w|") as tar:  # type: ignore[call-overload]
            for name, body in release_files().items():
                info = tarfile.TarInfo(name)
                info.size = len(body)
                tar.addfile(info, io.BytesIO(body))
    finally:
        out.close()
    return path


def header(info: tarfile.TarInfo) -> bytes:
    return info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict")


def one_huge_member(size: int) -> Stream:
    info = tarfile.TarInfo("lib/demo_app-2/blob.bin")
    info.size = size
    yield header(info)
    yield size + (-size % tarfile.BLOCKSIZE)  # the zeros, then the block's padding


def many_members(count: int) -> Stream:
    """`count` empty files: one header made by tarfile, the others from it with their own name
    and checksum (tarfile takes 17 us a header; 200,000 of them cost more than the test)."""
    template = header(tarfile.TarInfo("x"))
    for index in range(count):
        block = bytearray(template)
        block[0:100] = f"lib/demo_app-2/many/f{index}".encode().ljust(100, b"\0")
        block[148:156] = b" " * 8  # the checksum counts its own field as spaces
        block[148:156] = b"%06o\0 " % sum(block)
        yield bytes(block)


def peak_rss_kib(root: Path) -> int:
    """The node's peak resident set (VmHWM) in KiB."""
    pid = (root / "run" / "node.pid").read_text().split()[0]
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/<pid>/status")


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Script]:
    """A demo node started through `prlimit --as=1GiB bin/primenode start`."""
    prlimit = shutil.which("prlimit")
    assert prlimit is not None, "the test needs util-linux prlimit"
    script = Script(build_tree(tmp_path / "srv" / "primenode"))
    started = script.run(prlimit, f"--as={GIB}", str(script.path), "start", script=Path(prlimit))
    assert started.returncode == 0, (started.stdout, started.stderr)
    try:
        yield script
    finally:
        script.run("stop")


def refused_without_growth(node: Script, package: Path, reason: str) -> int:
    """Unpack must fail with one line naming `reason`, the tree untouched; the RSS growth."""
    releases = node.root / "releases"
    before_files = sorted(p.name for p in releases.iterdir())
    before_rss = peak_rss_kib(node.root)
    result = node.run("unpack", str(package), timeout=300)
    grown = peak_rss_kib(node.root) - before_rss
    print(f"{package.name}: {package.stat().st_size} bytes, node peak RSS grew {grown} KiB")
    assert result.returncode != 0
    assert reason in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert sorted(p.name for p in releases.iterdir()) == before_files
    assert not (node.root / "lib" / "demo_app-2").exists()
    assert node.ok("ping") == "pong\n"
    assert "Traceback" not in (node.root / "log" / "node.log").read_text()
    return grown


def test_a_2_mb_package_holding_a_2_gib_member_is_refused_and_the_node_barely_grows(
    limited: Script, tmp_path: Path
) -> None:
    package = write_package(tmp_path / "primenode_2.tar.gz", one_huge_member(2 * GIB))
    assert package.stat().st_size < 3 * 1024 * 1024
    grown = refused_without_growth(limited, package, "unpack.max_member_bytes")
    assert grown < 20 * 1024


def test_a_package_of_200000_members_is_refused_and_the_node_barely_grows(
    limited: Script, tmp_path: Path
) -> None:
    package = write_package(tmp_path / "primenode_2.tar.gz", many_members(200_000))
    grown = refused_without_growth(limited, package, "unpack.max_members")
    assert grown < 20 * 1024


def test_a_member_that_unpacks_past_the_ratio_limit_is_refused(
    limited: Script, tmp_path: Path
) -> None:
    package = write_package(tmp_path / "primenode_2.tar.gz", one_huge_member(64 * 1024 * 1024))
    refused_without_growth(limited, package, "unpack.max_ratio")


def test_the_unpack_limits_are_node_toml_settings(tmp_path: Path) -> None:
    script = Script(build_tree(tmp_path / "srv" / "primenode"))
    toml = script.root / "releases" / "1" / "node.toml"
    toml.write_text(toml.read_text() + "\n[unpack]\nmax_members = 5\n")
    script.ok("start")
    try:
        package = write_package(tmp_path / "primenode_2.tar.gz", iter(()))
        result = script.run("unpack", str(package))
        assert result.returncode != 0
        assert "more than 5 members (unpack.max_members)" in result.stderr
        toml.write_text(toml.read_text().replace("max_members = 5", "max_members = 500"))
        script.ok("unpack", str(package))
        assert (script.root / "lib" / "demo_app-2" / "demo_api.py").is_file()
        assert not [p for p in (script.root / "releases").iterdir() if p.name.startswith(".")]
    finally:
        script.run("stop")
