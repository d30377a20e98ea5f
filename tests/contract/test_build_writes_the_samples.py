"""The build side of the contract: what a real build writes is valid and is exactly the samples.

tests/contract/build/ holds the format files of two builds of the small sample release
(tests/build_backend/samples/minimal: release 1, then release 2 with alpha bumped to 2).
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from primes_build.package.release import build_release
from primes_runtime.formats import manifest, node_toml, releases, relup, sha256sums, start_data
from primes_runtime.formats.hashing import sha256_hex

from tests.build_backend.helpers import copy_sample, set_version

HERE = Path(__file__).parent
SAMPLES = HERE / "build"
#: package path -> sample file name, for every format file of release 2's package.
FORMAT_FILES = {
    "releases/RELEASES": "RELEASES",
    "releases/start_data": "start_data",
    "releases/2/release.json": "release.json",
    "releases/2/node.toml": "node.toml",
    "releases/2/up_from_1.relup": "up_from_1.relup",
    "releases/2/down_to_1.relup": "down_to_1.relup",
}


def members(package: Path) -> dict[str, bytes]:
    with tarfile.open(package, mode="r:gz") as tar:
        return {
            m.name: (tar.extractfile(m) or io.BytesIO()).read() for m in tar.getmembers()
            if m.isfile()
        }  # fmt: skip


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The files of the sample's release 1 and release 2 packages, built for real."""
    root = tmp_path_factory.mktemp("contract")
    project = copy_sample(root / "sample")
    out = root / "out"
    first = build_release(project, out, (), lambda _: None)
    set_version(project / "primes.toml", "2")
    set_version(project / "apps" / "alpha" / "pyproject.toml", "2")
    module = project / "apps" / "alpha" / "alpha" / "app.py"
    module.write_text(module.read_text() + "\nVERSION = '2'\n")
    second = build_release(project, out, (), lambda _: None)
    return members(first.path), members(second.path)


@pytest.mark.parametrize(("member", "sample"), sorted(FORMAT_FILES.items()))
def test_the_build_writes_exactly_the_contract_sample(
    packages: tuple[dict[str, bytes], dict[str, bytes]], member: str, sample: str
) -> None:
    _, files = packages
    assert files[member].decode("utf-8") == (SAMPLES / sample).read_text(encoding="utf-8"), (
        f"the build's {member} differs from tests/contract/build/{sample}: a format change must "
        "keep the old samples readable (docs/formats.md); copy the new output there if intended"
    )


def test_every_file_the_build_writes_is_read_back_by_the_runtime_readers(
    packages: tuple[dict[str, bytes], dict[str, bytes]],
) -> None:
    first, files = packages
    text = {name: data.decode("utf-8") for name, data in files.items() if "/lib/" not in name}
    assert releases.parse(text["releases/RELEASES"]) == (releases.Release("2", "permanent"),)
    assert start_data.parse(text["releases/start_data"]).version == "2"
    parsed = manifest.loads(text["releases/2/release.json"])
    assert (parsed.up_from, parsed.down_to) == (("1",), ("1",))
    assert node_toml.parse(text["releases/2/node.toml"]).name
    listed = sha256sums.verify(files, "releases/2/SHA256SUMS")
    assert {s.path for s in listed} == set(files) - {"releases/2/SHA256SUMS"}
    for name in ("up_from_1", "down_to_1"):
        script = relup.parse(text[f"releases/2/{name}.relup"], Path(name))
        relup.check(script)
        assert script.format == relup.FORMAT
        assert script.against == relup.Against("1", sha256_hex(first["releases/1/release.json"]))
