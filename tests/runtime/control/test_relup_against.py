"""A format 2 script names the release it was built against: `upgrade` refuses a script built
against another release of the same version, through the real bin/primenode."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

from primes_runtime.formats import sha256sums

from .conftest import Script, make_package


def with_header(package: Path, against_sha256: str) -> Path:
    """The package with a format 2 header on its up script, its SHA256SUMS recomputed."""
    with tarfile.open(package, "r:gz") as tar:
        files = {m.name: (tar.extractfile(m) or io.BytesIO()).read() for m in tar if m.isfile()}
    header = f'#relup 2 {{"against": "1", "sha256": "{against_sha256}"}}\n'
    files["releases/2/up_from_1.relup"] = header.encode() + files["releases/2/up_from_1.relup"]
    del files["releases/2/SHA256SUMS"]
    files["releases/2/SHA256SUMS"] = sha256sums.render(sha256sums.of_files(files)).encode()
    with tarfile.open(package, "w:gz") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return package


def release_1_sha256(script: Script) -> str:
    return hashlib.sha256((script.root / "releases/1/release.json").read_bytes()).hexdigest()


def test_upgrade_refuses_a_script_built_against_another_release_1_and_the_node_keeps_running(
    running: Script, tmp_path: Path
) -> None:
    other = hashlib.sha256(b"a release 1 built from other sources").hexdigest()
    package = with_header(make_package(tmp_path), other)
    assert running.ok("rpc", "demo_api", "incr") == "1\n"
    result = running.run("upgrade", str(package))
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "built against a different release 1 than this node's" in result.stderr
    assert f"this node has {release_1_sha256(running)[:12]}" in result.stderr
    assert running.ok("rpc", "demo_api", "incr") == "2\n"  # release 1's code, state kept
    assert running.run("rpc", "demo_api", "version").returncode == 1


def test_upgrade_runs_a_script_built_against_this_node_s_release_1(
    running: Script, tmp_path: Path
) -> None:
    package = with_header(make_package(tmp_path), release_1_sha256(running))
    running.ok("rpc", "demo_api", "incr")
    running.ok("upgrade", str(package))
    assert running.ok("rpc", "demo_api", "version") == "two\n"
    assert running.ok("rpc", "demo_api", "incr") == "101\n"
