"""Through the real commands: a release built for Python 3.12 by a 3.11 build runs on 3.12."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from primes_runtime.formats.hashing import sha256_hex

from tests.build_backend.deps.interpreters import find_python, path_with
from tests.build_backend.deps.wheelhouse import write_wheel
from tools.story import copy_sources, run, set_version

pytestmark = pytest.mark.e2e
PY312 = find_python("3.12")
needs_312 = pytest.mark.skipif(PY312 is None, reason="no Python 3.12 on this machine")

WHICH_CALL = '''

def which_build() -> str:
    """Which wheel of the locked library the release shipped."""
    import pylib

    return str(pylib.BUILT_FOR)
'''


def lock_wheels(
    project: Path, wheels: list[Path], requires: str = ">=3.11", version: str = "1.0"
) -> None:
    """pylock.toml locking pylib `version` with these wheels."""
    entries = ", ".join(
        f'{{ url = "{w.as_uri()}", hashes = {{ sha256 = "{sha256_hex(w.read_bytes())}" }} }}'
        for w in wheels
    )
    (project / "pylock.toml").write_text(
        f'lock-version = "1.0"\ncreated-by = "tests"\nrequires-python = "{requires}"\n\n'
        f'[[packages]]\nname = "pylib"\nversion = "{version}"\nwheels = [{entries}]\n'
    )


def pylib_wheels(house: Path, *tags: str, version: str = "1.0") -> list[Path]:
    """A pylib wheel per tag, its module saying which (BUILT_FOR = "cp312", ...)."""
    return [
        write_wheel(
            house, "pylib", version, {"pylib.py": f'BUILT_FOR = "{t[:5]}"\n'.encode()}, tag=t
        )
        for t in tags
    ]


def target(src: Path, python: str, requires: str = ">=3.11") -> None:
    """Make primes.toml's [release] name `python` (and `requires`)."""
    path = src / "primes.toml"
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("version = "))
    lines = [ln for ln in lines if not ln.startswith(("python = ", "requires-python = "))]
    lines[at + 1 : at + 1] = [f'requires-python = "{requires}"', f'python = "{python}"']
    path.write_text("\n".join(lines) + "\n")


def build(src: Path, dist: Path, house: Path) -> tuple[Path, float]:
    """`python -m build` with this (3.11) interpreter; the package and the seconds it took."""
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist)]
    started = time.monotonic()
    run([*command, f"-Cwheelhouse={house}", str(src)], cwd=src)
    version = next(
        ln.split('"')[1]
        for ln in (src / "primes.toml").read_text().splitlines()
        if ln.startswith("version = ")
    )
    return dist / f"primenode_{version}.tar.gz", time.monotonic() - started


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The primenode sources naming Python 3.12, prime_miner needing pylib; dist; wheelhouse."""
    src = copy_sources(tmp_path_factory.mktemp("src"))
    house = tmp_path_factory.mktemp("wheelhouse")
    pyproject = src / "apps" / "prime_miner" / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text.replace('["primes-runtime"]', '["primes-runtime", "pylib>=1"]'))
    with (src / "apps" / "prime_miner" / "pm.py").open("a") as pm:
        pm.write(WHICH_CALL)
    lock_wheels(src, pylib_wheels(house, "cp311-none-any", "cp312-none-any"))
    target(src, "3.12")
    return src, tmp_path_factory.mktemp("dist"), house


@pytest.fixture(scope="module")
def package(sources: tuple[Path, Path, Path]) -> Path:
    src, dist, house = sources
    built, seconds = build(src, dist, house)
    print(f"build of a release for Python 3.12 with {sys.version.split()[0]}: {seconds:.2f} s")
    return built


def bin_primenode(
    root: Path, path: str, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`ROOT/bin/primenode ARGS...` with PATH `path` and no PRIMES_PYTHON."""
    env = {k: v for k, v in os.environ.items() if k != "PRIMES_PYTHON"}
    env["PATH"] = path
    done = subprocess.run(
        [str(root / "bin" / "primenode"), *args],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{args} exited {done.returncode}: {done.stderr}")
    return done


@pytest.fixture
def node(tmp_path: Path, package: Path) -> Iterator[tuple[Path, str]]:
    """The 3.12 package unpacked with tar and started, python3.12 on PATH; stopped after."""
    assert PY312 is not None
    root = tmp_path / "srv" / "primenode"
    root.mkdir(parents=True)
    run(["tar", "-xzf", str(package), "-C", str(root)])
    path = path_with(tmp_path / "pythons", {"python3.12": PY312})
    bin_primenode(root, path, "start")
    try:
        yield root, path
    finally:
        bin_primenode(root, path, "stop", check=False)


@needs_312
def test_a_release_for_312_built_on_311_runs_on_312_with_the_312_wheel(
    node: tuple[Path, str],
) -> None:
    root, path = node
    shown = bin_primenode(root, path, "eval", "import sys; sys.version_info[:2]").stdout
    assert shown.strip() == "(3, 12)"
    assert bin_primenode(root, path, "rpc", "pm", "which_build").stdout.strip() == "cp312"
    manifest = json.loads((root / "releases" / "1" / "release.json").read_text())
    assert manifest["python"] == "3.12"
    assert manifest["libraries"][0]["wheel"] == "pylib-1.0-cp312-none-any.whl"
    assert 'python = "python3.12"' in (root / "releases" / "1" / "node.toml").read_text()


@needs_312
def test_a_release_for_312_ships_no_bytecode(package: Path) -> None:
    with tarfile.open(package) as archive:
        names = archive.getnames()
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]


@needs_312
def test_a_release_whose_interpreter_the_host_lacks_is_refused_at_unpack_in_one_line(
    node: tuple[Path, str], sources: tuple[Path, Path, Path]
) -> None:
    root, path = node
    src, dist, house = sources
    set_version(src / "primes.toml", "2")
    target(src, "3.9", requires=">=3.9")
    lock = (src / "pylock.toml").read_text()
    wheels = pylib_wheels(house, "py3-none-any", version="2.0")
    lock_wheels(src, wheels, requires=">=3.9", version="2.0")
    try:
        second, _ = build(src, dist, house)
    finally:
        set_version(src / "primes.toml", "1")
        target(src, "3.12")
        (src / "pylock.toml").write_text(lock)
    before = sorted(p.name for p in (root / "releases").iterdir())
    refused = bin_primenode(root, path, "unpack", str(second), check=False)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert "refused, release 2 runs on Python 3.9, which this host lacks" in refused.stderr
    assert "install Python 3.9 as python3.9 on the node's PATH" in refused.stderr
    assert sorted(p.name for p in (root / "releases").iterdir()) == before
    checked = bin_primenode(root, path, "check", str(second), check=False)
    assert checked.returncode == 1 and "which this host lacks" in checked.stderr


@needs_312
def test_the_start_script_refuses_another_python_or_a_missing_one_in_one_line(
    tmp_path: Path, package: Path
) -> None:
    root = tmp_path / "srv" / "primenode"
    root.mkdir(parents=True)
    run(["tar", "-xzf", str(package), "-C", str(root)])
    bare = path_with(tmp_path / "none", {})
    missing = bin_primenode(root, bare, "start", check=False)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1
    assert "'python3.12' not found, which release 1 runs on" in missing.stderr
    env = {**os.environ, "PRIMES_PYTHON": sys.executable}
    done = subprocess.run(
        [str(root / "bin" / "primenode"), "start"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    found = sys.version.split()[0]
    assert f"is Python {found}, but release 1 runs on Python 3.12" in done.stderr
    assert not (root / "run" / "node.pid").exists()
