"""Tests of primes_build.package.release: the package, reuse, version checks, earlier releases."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from primes_build.errors import BuildError
from primes_build.package.release import BuiltRelease, build_release

from tests.build_backend.helpers import set_version


def build(project: Path, outdir: Path, previous: tuple[str, ...] = ()) -> tuple[BuiltRelease, str]:
    lines: list[str] = []
    built = build_release(project, outdir, previous, lines.append)
    return built, "\n".join(lines)


def members(package: Path) -> dict[str, bytes]:
    with tarfile.open(package, mode="r:gz") as tar:
        return {
            m.name: (tar.extractfile(m) or io.BytesIO()).read() if m.isfile() else b""
            for m in tar.getmembers()
        }


def bump(project: Path, app: str, version: str) -> None:
    set_version(project / "primes.toml", version)
    set_version(project / "apps" / app / "pyproject.toml", version)
    module = project / "apps" / app / app / "app.py"
    module.write_text(module.read_text() + f"\nVERSION = {version!r}\n")


def test_package_has_the_documented_layout(sample: Path, tmp_path: Path) -> None:
    built, _ = build(sample, tmp_path / "out")
    assert built.path == tmp_path / "out" / "sample_1.tar.gz"
    files = members(built.path)
    for name in [
        "bin/sample",
        "releases/RELEASES",
        "releases/start_data",
        "releases/1/release.json",
        "releases/1/node.toml",
        "releases/1/SHA256SUMS",
        "lib/primes_runtime-7/primes_runtime/__init__.py",
        "lib/alpha-1/alpha/app.py",
        "lib/beta-1/beta/__init__.py",
    ]:
        assert name in files, name
    assert files["releases/start_data"] == b"1 lib/primes_runtime-7\n"
    assert json.loads(files["releases/RELEASES"]) == {
        "format": 1,
        "releases": [{"status": "permanent", "version": "1"}],
    }
    assert not [n for n in files if n.endswith(".pyc") or "__pycache__" in n]


def test_manifest_lists_apps_in_start_order_with_module_hashes(
    sample: Path, tmp_path: Path
) -> None:
    built, _ = build(sample, tmp_path / "out")
    files = members(built.path)
    manifest = json.loads(files["releases/1/release.json"])
    assert files["releases/1/release.json"].endswith(b"}\n")
    assert [a["name"] for a in manifest["apps"]] == ["alpha", "beta"]
    beta = manifest["apps"][1]
    assert (
        beta["path"] == "lib/beta-1" and beta["needs"] == ["alpha"] and beta["env"] == {"level": 1}
    )
    assert beta["start"] == "beta.app:start" and beta["stop"] is None
    assert beta["modules"] == {
        "beta": hashlib.sha256(files["lib/beta-1/beta/__init__.py"]).hexdigest(),
        "beta.app": hashlib.sha256(files["lib/beta-1/beta/app.py"]).hexdigest(),
    }
    assert manifest["runtime"]["path"] == "lib/primes_runtime-7"
    assert manifest["upgrades"] == {"up_from": [], "down_to": []}
    assert manifest["requires_python"] == ">=3.11" and manifest["format"] == 1


def test_node_toml_merges_defaults_with_primes_toml(sample: Path, tmp_path: Path) -> None:
    built, _ = build(sample, tmp_path / "out")
    text = members(built.path)["releases/1/node.toml"].decode()
    assert 'name = "sample"' in text and "shutdown_timeout = 3.0" in text
    assert "log_backups = 2" in text and '[env.beta]\ngreeting = "hi"' in text


def test_start_script_is_rendered_from_rel_templates(sample: Path, tmp_path: Path) -> None:
    built, _ = build(sample, tmp_path / "out")
    script = members(built.path)["bin/sample"].decode()
    assert "# sample 1 needs python >=3.11 (>= 3.11)" in script


def test_sha256sums_lists_every_other_file_and_sha256sum_accepts_it(
    sample: Path, tmp_path: Path
) -> None:
    built, _ = build(sample, tmp_path / "out")
    node = tmp_path / "node"
    node.mkdir()
    with tarfile.open(built.path, mode="r:gz") as tar:
        tar.extractall(node, filter="data")
    sums = (node / "releases/1/SHA256SUMS").read_text().splitlines()
    listed = [line.split("  ", 1)[1] for line in sums]
    every = sorted(p.relative_to(node).as_posix() for p in node.rglob("*") if p.is_file())
    assert listed == [p for p in every if p != "releases/1/SHA256SUMS"]
    if shutil.which("sha256sum"):
        subprocess.run(
            ["sha256sum", "--quiet", "-c", "releases/1/SHA256SUMS"], cwd=node, check=True
        )


def test_two_builds_of_the_same_sources_are_byte_identical(sample: Path, tmp_path: Path) -> None:
    first, _ = build(sample, tmp_path / "one")
    second, said = build(sample, tmp_path / "two")
    assert "(reused)" not in said
    assert first.path.read_bytes() == second.path.read_bytes()


def test_unchanged_apps_are_reused_and_the_output_says_so(sample: Path, tmp_path: Path) -> None:
    _, said = build(sample, tmp_path / "out")
    assert "==> alpha 1 (wheel)" in said and "==> release sample 1" in said
    bump(sample, "beta", "2")
    _, said = build(sample, tmp_path / "out")
    lines = said.splitlines()
    assert "==> primes_runtime 7 (reused)" in lines
    assert "==> alpha 1 (reused)" in lines
    assert "==> beta 2 (wheel)" in lines
    assert f"    wrote {tmp_path / 'out' / 'sample_2.tar.gz'}" in lines


def test_changed_app_without_a_version_bump_is_refused(sample: Path, tmp_path: Path) -> None:
    build(sample, tmp_path / "out")
    set_version(sample / "primes.toml", "2")
    (sample / "apps/alpha/alpha/app.py").write_text('"""Changed."""\n')
    with pytest.raises(BuildError) as caught:
        build(sample, tmp_path / "out")
    assert caught.value.file == "apps/alpha/pyproject.toml"
    assert caught.value.key == "project.version" and caught.value.line == 7
    assert "alpha changed since release 1" in str(caught.value)
    assert "bump its version" in str(caught.value)
    assert not (tmp_path / "out" / "sample_2.tar.gz").exists()


def test_earlier_package_in_the_output_dir_gets_upgrade_scripts(
    sample: Path, tmp_path: Path
) -> None:
    build(sample, tmp_path / "out")
    bump(sample, "alpha", "2")
    built, said = build(sample, tmp_path / "out")
    files = members(built.path)
    assert "releases/2/up_from_1.relup" in files and "releases/2/down_to_1.relup" in files
    manifest = json.loads(files["releases/2/release.json"])
    assert manifest["upgrades"] == {"up_from": ["1"], "down_to": ["1"]}
    assert "    releases/2/up_from_1.relup" in said.splitlines()
    assert "lib/alpha-1/alpha/app.py" not in files and "lib/alpha-2/alpha/app.py" in files


def test_previous_setting_points_at_packages_elsewhere(sample: Path, tmp_path: Path) -> None:
    first, _ = build(sample, tmp_path / "old")
    bump(sample, "alpha", "2")
    built, _ = build(sample, tmp_path / "new", previous=(str(first.path),))
    manifest = json.loads(members(built.path)["releases/2/release.json"])
    assert manifest["upgrades"] == {"up_from": ["1"], "down_to": ["1"]}


def test_previous_setting_that_does_not_exist_is_an_error(sample: Path, tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"-C previous=/nowhere/x\.tar\.gz: no such file"):
        build(sample, tmp_path / "out", previous=("/nowhere/x.tar.gz",))


def test_output_dir_in_a_deployed_release_tree_is_refused(sample: Path, tmp_path: Path) -> None:
    built, _ = build(sample, tmp_path / "out")
    node = tmp_path / "node"
    node.mkdir()
    with tarfile.open(built.path, mode="r:gz") as tar:
        tar.extractall(node, filter="data")
    before = sorted(p.relative_to(node) for p in node.rglob("*"))
    for outdir in (node, node / "releases"):
        with pytest.raises(BuildError, match=r"refusing to build into .*deployed release tree"):
            build(sample, outdir)
    assert sorted(p.relative_to(node) for p in node.rglob("*")) == before


def test_a_failing_app_build_prints_its_output_then_one_error(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = sample / "apps/beta/pyproject.toml"
    path.write_text(path.read_text().replace('packages = ["beta"]', 'packages = ["nothere"]'))
    with pytest.raises(BuildError, match="building the wheel of apps/beta failed"):
        build(sample, tmp_path / "out")
    assert "nothere" in capsys.readouterr().err


def test_an_earlier_package_without_sha256sums_is_refused_naming_it(
    sample: Path, tmp_path: Path
) -> None:
    first, _ = build(sample, tmp_path / "out")
    files = {k: v for k, v in members(first.path).items() if not k.endswith("/SHA256SUMS")}
    with tarfile.open(first.path, "w:gz") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    bump(sample, "alpha", "2")
    with pytest.raises(BuildError) as caught:
        build(sample, tmp_path / "out")
    assert str(caught.value) == (
        f"{first.path}: releases/1/SHA256SUMS: SHA256SUMS is missing; rebuild the package"
    )
    assert not (tmp_path / "out" / "sample_2.tar.gz").exists()


def test_the_upgrade_scripts_name_the_earlier_release_json_they_were_built_against(
    sample: Path, tmp_path: Path
) -> None:
    first, _ = build(sample, tmp_path / "out")
    bump(sample, "alpha", "2")
    built, _ = build(sample, tmp_path / "out")
    files = members(built.path)
    digest = hashlib.sha256(members(first.path)["releases/1/release.json"]).hexdigest()
    for name in ("up_from_1", "down_to_1"):
        first_line = files[f"releases/2/{name}.relup"].decode().splitlines()[0]
        assert first_line == f'#relup 2 {{"against": "1", "sha256": "{digest}"}}'
