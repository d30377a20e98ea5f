"""`primes lock` (primes_build.deps.lockcmd.main) resolves the apps' dependencies with uv."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from primes_build.deps.lockcmd import UV_VERSION, checked_uv, main, uv_binary
from primes_build.errors import BuildError
from primes_build.package.release import build_release

from tests.build_backend.deps.wheelhouse import add_dependencies, write_wheel


@pytest.fixture
def house(tmp_path: Path) -> Path:
    """tinylib 1.0 and 2.0 (both need tinybase), tinybase 1.0."""
    folder = tmp_path / "wheelhouse"
    write_wheel(folder, "tinybase", "1.0", {"tinybase.py": b"BASE = 1\n"})
    for version in ("1.0", "2.0"):
        files = {"tinylib/__init__.py": f"VERSION = {version!r}\n".encode()}
        write_wheel(folder, "tinylib", version, files, requires=["tinybase>=1"])
    return folder


def locked(project: Path) -> dict[str, str]:
    data = tomllib.loads((project / "pylock.toml").read_text())
    return {p["name"]: p["version"] for p in data["packages"]}


def lock(project: Path, house: Path, *extra: str) -> int:
    return main(["--project", str(project), "--no-index", "--find-links", str(house), *extra])


def test_lock_writes_a_pylock_toml_the_build_accepts(
    sample: Path, house: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_dependencies(sample, "alpha", ["tinylib>=1,<2"])
    assert lock(sample, house) == 0
    assert f"wrote {sample / 'pylock.toml'}" in capsys.readouterr().out
    assert locked(sample) == {"tinybase": "1.0", "tinylib": "1.0"}
    built = build_release(sample, tmp_path / "dist", (), lambda _: None)
    assert built.path.is_file()


def test_lock_keeps_locked_versions_until_told_to_upgrade(sample: Path, house: Path) -> None:
    add_dependencies(sample, "alpha", ["tinylib>=1,<2"])
    assert lock(sample, house) == 0
    path = sample / "apps" / "alpha" / "pyproject.toml"
    path.write_text(path.read_text().replace('"tinylib>=1,<2"', '"tinylib>=1"'))
    assert lock(sample, house) == 0
    assert locked(sample)["tinylib"] == "1.0"
    assert lock(sample, house, "--upgrade") == 0
    assert locked(sample)["tinylib"] == "2.0"


def test_lock_with_no_dependencies_writes_an_empty_lock(sample: Path, house: Path) -> None:
    assert lock(sample, house) == 0
    assert locked(sample) == {}


def test_an_unresolvable_requirement_ends_in_one_error_line(
    sample: Path, house: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_dependencies(sample, "alpha", ["tinylib>=3"])
    assert lock(sample, house) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("ERROR uv could not lock the apps' dependencies: ")
    assert not (sample / "pylock.toml").exists()


def test_lock_then_python_m_build_ships_the_dependency(
    sample: Path, house: Path, tmp_path: Path
) -> None:
    add_dependencies(sample, "alpha", ["tinylib"])
    assert lock(sample, house) == 0
    out = tmp_path / "out"
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out)]
    command += [f"-Cwheelhouse={house}"]
    done = subprocess.run(command, cwd=sample, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "==> library tinylib 2.0 (wheelhouse)" in done.stdout.splitlines()
    with subprocess.Popen(
        ["tar", "-tzf", str(out / "sample_1.tar.gz")], stdout=subprocess.PIPE
    ) as tar:
        listing = tar.communicate()[0].decode().splitlines()
    assert "lib/tinylib-2.0/tinylib/__init__.py" in listing


def test_a_relative_wheelhouse_is_found_from_where_python_m_build_was_typed(
    sample: Path, house: Path, tmp_path: Path
) -> None:
    add_dependencies(sample, "alpha", ["tinylib"])
    assert lock(sample, house) == 0
    typed_in = house.parent
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", "out"]
    command += ["-Cwheelhouse=wheelhouse", str(sample.relative_to(typed_in))]
    env = {**os.environ, "PWD": str(typed_in)}  # what a shell sets after `cd`
    done = subprocess.run(command, cwd=typed_in, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "==> library tinylib 2.0 (wheelhouse)" in done.stdout.splitlines()
    assert (typed_in / "out" / "sample_1.tar.gz").is_file()


def test_a_uv_of_another_version_is_refused_with_what_to_install(tmp_path: Path) -> None:
    fake = tmp_path / "uv"
    fake.write_text("#!/bin/sh\necho 'uv 0.1.0 (fake)'\n")
    fake.chmod(0o755)
    with pytest.raises(BuildError) as caught:
        checked_uv(str(fake))
    assert str(caught.value) == (
        f"{fake} is uv 0.1.0, primes lock needs uv {UV_VERSION} (the lock depends on the "
        f"resolver's version); pip install uv=={UV_VERSION}"
    )


def test_the_pinned_uv_is_the_one_installed_for_development() -> None:
    assert checked_uv(uv_binary()) == uv_binary()


def test_the_primes_command_locks_and_refuses_with_one_line(sample: Path, house: Path) -> None:
    primes = Path(sys.executable).parent / "primes"
    add_dependencies(sample, "alpha", ["tinylib>=1,<2"])
    done = subprocess.run(
        [str(primes), "lock", "--no-index", "--find-links", str(house)],
        cwd=sample, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert locked(sample) == {"tinybase": "1.0", "tinylib": "1.0"}
    path = sample / "apps" / "alpha" / "pyproject.toml"
    path.write_text(path.read_text().replace('"tinylib>=1,<2"', '"tinylib>=3"'))
    done = subprocess.run(
        [str(primes), "lock", "--no-index", "--find-links", str(house)],
        cwd=sample, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("primes: uv could not lock the apps' dependencies: "), line
    assert "you require tinylib>=3" in line and "unsatisfiable" in line, line
