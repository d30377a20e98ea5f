"""Through the real commands: a locked library is shipped, on sys.path at boot, and used."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.build_backend.deps.wheelhouse import write_lock, write_wheel
from tools.story import bump, copy_sources, deploy, primenode, run, set_version

pytestmark = pytest.mark.e2e

TINY_CALL = '''

def tiny() -> str:
    """What the locked library says (issue 14's test dependency)."""
    import tinylib

    return str(tinylib.describe())
'''


def tiny_wheels(
    house: Path, version: str, base_extra: dict[str, bytes] | None = None
) -> list[Path]:
    source = f'"""tinylib {version}."""\nfrom tinybase import BASE\n\n\ndef describe():\n'
    source += f'    return "tinylib {version} on base " + str(BASE)\n'
    base = {"tinybase.py": b"BASE = 1\n", **(base_extra or {})}
    return [
        write_wheel(house, "tinybase", "1.0", base),
        write_wheel(
            house, "tinylib", version, {"tinylib/__init__.py": source.encode()}, ["tinybase>=1"]
        ),
    ]


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """primenode 1 with prime_miner needing tinylib, built with python -m build, offline;
    tinybase also ships a module named like a standard one (colorsys)."""
    src = copy_sources(tmp_path_factory.mktemp("src"))
    house = tmp_path_factory.mktemp("wheelhouse")
    pyproject = src / "apps" / "prime_miner" / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text.replace('["primes-runtime"]', '["primes-runtime", "tinylib>=1"]'))
    with (src / "apps" / "prime_miner" / "pm.py").open("a") as pm:
        pm.write(TINY_CALL)
    write_lock(src, tiny_wheels(house, "1.0", {"colorsys.py": b"HIJACKED = True\n"}))
    dist = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist)]
    run([*command, f"-Cwheelhouse={house}", str(src)], cwd=src)
    return dist / "primenode_1.tar.gz"


@pytest.fixture
def node(tmp_path: Path, package: Path) -> Iterator[Path]:
    root = tmp_path / "srv" / "primenode"
    deploy(package, root)
    primenode(root, "start")
    try:
        yield root
    finally:
        primenode(root, "stop", check=False)


def test_a_locked_library_is_imported_from_the_release_at_boot(node: Path) -> None:
    assert primenode(node, "rpc", "pm", "tiny").stdout.strip() == "tinylib 1.0 on base 1"
    where = primenode(node, "eval", "__import__('tinylib').__file__").stdout.strip()
    assert where.strip("'\"") == str(node / "lib" / "tinylib-1.0" / "tinylib" / "__init__.py")


def test_nothing_outside_the_release_is_on_the_nodes_path(node: Path) -> None:
    shown = primenode(node, "eval", "[p for p in __import__('sys').path]").stdout
    entries = [e.strip(" '\"") for e in shown.strip().strip("[]").split(",") if e.strip()]
    ours = [e for e in entries if e.startswith(str(node))]
    assert ours[0] == str(node / "lib" / "primes_runtime-1")
    assert ours[-2:] == [str(node / "lib" / "tinybase-1.0"), str(node / "lib" / "tinylib-1.0")]
    assert not [e for e in entries if "site-packages" in e]


def test_a_library_cannot_shadow_a_standard_module_or_an_app_on_the_nodes_path(
    node: Path,
) -> None:
    shown = primenode(node, "eval", "__import__('colorsys').__file__").stdout.strip(" \n'\"")
    assert not shown.startswith(str(node)), shown
    assert primenode(node, "eval", "hasattr(__import__('colorsys'), 'HIJACKED')").stdout == (
        "False\n"
    )
    shown = primenode(node, "eval", "[p for p in __import__('sys').path]").stdout
    last_app = max(shown.index(f"lib/{app}-1'") for app in ("prime_miner", "frontman", "primes"))
    assert last_app < shown.index("lib/tinybase-1.0'")


@pytest.fixture(scope="module")
def upgrades(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, str]:
    """Packages 1 (tinylib 1.0), 2 (tinylib 2.0) and 3 (no tinylib), and what 2's build said."""
    src = copy_sources(tmp_path_factory.mktemp("src"))
    house = tmp_path_factory.mktemp("wheelhouse")
    pyproject = src / "apps" / "prime_miner" / "pyproject.toml"
    plain = pyproject.read_text()
    pyproject.write_text(plain.replace('["primes-runtime"]', '["primes-runtime", "tinylib>=1"]'))
    pm = src / "apps" / "prime_miner" / "pm.py"
    plain_pm = pm.read_text()
    pm.write_text(plain_pm + TINY_CALL)
    dist = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist)]
    command += [f"-Cwheelhouse={house}", str(src)]
    write_lock(src, tiny_wheels(house, "1.0"))
    run(command, cwd=src)
    set_version(src / "primes.toml", "2")
    write_lock(src, tiny_wheels(house, "2.0"))
    said = run(command, cwd=src).stdout
    bump(src, "3")
    pyproject.write_text(plain.replace('version = "1"', 'version = "3"', 1))
    pm.write_text(plain_pm)
    (src / "pylock.toml").unlink()  # no app needs a library any more: no lock needed
    run(command, cwd=src)
    return (
        dist / "primenode_1.tar.gz",
        dist / "primenode_2.tar.gz",
        dist / "primenode_3.tar.gz",
        said,
    )


def test_the_build_says_what_it_derived_for_a_library(
    upgrades: tuple[Path, Path, Path, str],
) -> None:
    said = upgrades[3].splitlines()
    assert "    library tinylib 1.0 -> 2.0: derived load_module tinylib" in said
    assert "    library tinylib 2.0 -> 1.0: derived load_module tinylib" in said


def test_a_library_version_change_is_upgraded_and_downgraded_hot_with_the_state_kept(
    tmp_path: Path, upgrades: tuple[Path, Path, Path, str]
) -> None:
    one, two, three, _ = upgrades
    root = tmp_path / "srv" / "primenode"
    deploy(one, root)
    primenode(root, "start")
    try:
        assert primenode(root, "rpc", "pm", "tiny").stdout.strip() == "tinylib 1.0 on base 1"
        pid = primenode(root, "pid").stdout.strip()
        before = int(primenode(root, "rpc", "pm", "count").stdout)
        primenode(root, "upgrade", str(two))
        assert primenode(root, "rpc", "pm", "tiny").stdout.strip() == "tinylib 2.0 on base 1"
        assert int(primenode(root, "rpc", "pm", "count").stdout) >= before
        assert primenode(root, "pid").stdout.strip() == pid
        where = primenode(root, "eval", "__import__('tinylib').__file__").stdout.strip(" \n'\"")
        assert where == str(root / "lib" / "tinylib-2.0" / "tinylib" / "__init__.py")
        primenode(root, "downgrade", "1")
        assert primenode(root, "rpc", "pm", "tiny").stdout.strip() == "tinylib 1.0 on base 1"
        primenode(root, "upgrade", "2")
        assert primenode(root, "rpc", "pm", "tiny").stdout.strip() == "tinylib 2.0 on base 1"
        primenode(root, "upgrade", str(three))
        gone = primenode(root, "eval", "'tinylib' in __import__('sys').modules").stdout.strip()
        assert gone == "False"
        assert int(primenode(root, "rpc", "pm", "count").stdout) >= before
    finally:
        primenode(root, "stop", check=False)
