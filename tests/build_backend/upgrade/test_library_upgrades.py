"""Library upgrades are derived like an app's, and a changed compiled extension is refused."""

from __future__ import annotations

import importlib.machinery
import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from primes_build.errors import BuildError
from primes_build.package.release import build_release

from tests.build_backend.deps.wheelhouse import add_dependencies, write_lock, write_wheel
from tests.build_backend.helpers import set_version

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]
RESTART = """
[tool.primes.app.upgrade."2"]
up_from."1" = [{ restart_application = "alpha" }]
down_to."1" = [{ restart_application = "alpha" }]
"""


def fastlib(house: Path, version: str, compiled: bytes) -> Path:
    files = {
        "fastlib/__init__.py": f"VERSION = {version!r}\n".encode(),
        f"fastlib/_speed{SUFFIX}": compiled,
    }
    return write_wheel(house, "fastlib", version, files)


def build(project: Path, outdir: Path) -> tuple[Path, list[str]]:
    lines: list[str] = []
    built = build_release(project, outdir, (), lines.append)
    return built.path, lines


def relup(package: Path, name: str) -> str:
    with tarfile.open(package) as tar:
        member = tar.extractfile(name)
        assert member is not None
        return (member or io.BytesIO()).read().decode()


def release_two(sample: Path, house: Path, compiled: bytes) -> None:
    set_version(sample / "primes.toml", "2")
    write_lock(sample, [fastlib(house, "2.0", compiled)])


def test_a_changed_compiled_extension_is_refused_naming_the_apps_to_restart(
    sample: Path, tmp_path: Path
) -> None:
    house = tmp_path / "house"
    add_dependencies(sample, "alpha", ["fastlib"])
    write_lock(sample, [fastlib(house, "1.0", b"\x7fELF one")])
    build(sample, tmp_path / "dist")
    release_two(sample, house, b"\x7fELF two")
    with pytest.raises(BuildError) as caught:
        build(sample, tmp_path / "dist")
    assert str(caught.value) == (
        "cannot upgrade library fastlib 1.0 -> 2.0 in place: its compiled extension "
        "fastlib._speed changed and a running interpreter cannot replace it; declare "
        "restart_application for alpha (the apps using it) in this upgrade, or restart the node"
    )
    assert not (tmp_path / "dist" / "sample_2.tar.gz").exists()


def test_a_changed_compiled_extension_passes_when_its_users_restart(
    sample: Path, tmp_path: Path
) -> None:
    house = tmp_path / "house"
    add_dependencies(sample, "alpha", ["fastlib"])
    write_lock(sample, [fastlib(house, "1.0", b"\x7fELF one")])
    build(sample, tmp_path / "dist")
    release_two(sample, house, b"\x7fELF two")
    pyproject = sample / "apps" / "alpha" / "pyproject.toml"
    set_version(pyproject, "2")
    pyproject.write_text(pyproject.read_text() + RESTART)
    (sample / "apps" / "alpha" / "alpha" / "app.py").open("a").write("\nTWO = 2\n")
    package, said = build(sample, tmp_path / "dist")
    assert (
        "    library fastlib 1.0 -> 2.0: derived load_module fastlib, delete_module "
        "fastlib._speed" in said
    )
    script = relup(package, "releases/2/up_from_1.relup")
    lines = script.splitlines()
    assert lines.index('remove {"module": "fastlib._speed"}') < lines.index(
        'start_app {"app": "alpha"}'
    )


def test_a_pure_python_library_change_is_load_module_before_the_apps(
    sample: Path, tmp_path: Path
) -> None:
    house = tmp_path / "house"
    add_dependencies(sample, "alpha", ["purelib"])
    one = write_wheel(house, "purelib", "1.0", {"purelib.py": b"V = 1\n"})
    write_lock(sample, [one])
    build(sample, tmp_path / "dist")
    set_version(sample / "primes.toml", "2")
    two = write_wheel(house, "purelib", "2.0", {"purelib.py": b"V = 2\n", "purelib_x.py": b""})
    write_lock(sample, [two])
    package, said = build(sample, tmp_path / "dist")
    assert (
        "    library purelib 1.0 -> 2.0: derived load_module purelib, add_module purelib_x" in said
    )
    assert (
        "    library purelib 2.0 -> 1.0: derived load_module purelib, delete_module purelib_x"
        in said
    )
    up = [ln for ln in relup(package, "releases/2/up_from_1.relup").splitlines() if ln[:1] != "#"]
    assert up[0].startswith('load_object_code {"app": "purelib", "from_vsn": "1.0"')
    assert up[2] == (
        'switch_app_path {"app": "purelib", "from_vsn": "1.0", "to_vsn": "2.0", '
        '"from_path": "lib/purelib-1.0", "to_path": "lib/purelib-2.0"}'
    )
    down = relup(package, "releases/2/down_to_1.relup")
    assert 'remove {"module": "purelib_x"}' in down


def test_an_apps_from_import_of_a_replaced_library_module_is_no_hazard(
    sample: Path, tmp_path: Path
) -> None:
    house = tmp_path / "house"
    add_dependencies(sample, "alpha", ["purelib"])
    (sample / "apps" / "alpha" / "alpha" / "app.py").open("a").write("\nfrom purelib import V\n")
    write_lock(sample, [write_wheel(house, "purelib", "1.0", {"purelib.py": b"V = 1\n"})])
    build(sample, tmp_path / "dist")
    set_version(sample / "primes.toml", "2")
    write_lock(sample, [write_wheel(house, "purelib", "2.0", {"purelib.py": b"V = 2\n"})])
    _, said = build(sample, tmp_path / "dist")
    assert "==> upgrade 1 -> 2" in said  # the node rebinds `V` to the new value: no warning
    assert not [line for line in said if "warning" in line], said


def test_a_wheelhouse_setting_that_is_no_directory_is_one_line(
    sample: Path, tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir"]
    command += [str(tmp_path / "out"), f"-Cwheelhouse={tmp_path / 'missing'}"]
    done = subprocess.run(command, cwd=sample, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("ERROR -C")]
    assert errors == [
        f"ERROR -C wheelhouse={tmp_path / 'missing'}: not a directory; give a folder of wheels"
    ]
    assert "Traceback" not in done.stderr


def test_the_instructions_derived_for_a_large_library_are_printed_wrapped(
    sample: Path, tmp_path: Path
) -> None:
    house = tmp_path / "house"
    add_dependencies(sample, "alpha", ["biglib"])
    modules = [f"biglib/sub_{i:02}/module_with_a_long_name.py" for i in range(60)]
    write_lock(sample, [write_wheel(house, "biglib", "1.0", {m: b"V = 1\n" for m in modules})])
    command = [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir"]
    command += [str(tmp_path / "out"), f"-Cwheelhouse={house}"]
    subprocess.run(command, cwd=sample, capture_output=True, check=True)
    set_version(sample / "primes.toml", "2")
    write_lock(sample, [write_wheel(house, "biglib", "2.0", {m: b"V = 2\n" for m in modules})])
    done = subprocess.run(command, cwd=sample, capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    start = lines.index(
        "    library biglib 1.0 -> 2.0: derived load_module biglib.sub_00.module_with_a_long_name,"
    )
    entry = []
    for line in lines[start + 1 :]:
        if not line.startswith("        "):
            break
        entry.append(line)
    assert len(entry) > 10
    assert max(len(line) for line in [lines[start], *entry]) <= 100
    assert " ".join(line.strip() for line in entry).count("load_module biglib.sub_") == 59
