"""End to end with a real PyPI package: primes lock, python -m build, boot, hot upgrade."""

from __future__ import annotations

from pathlib import Path

import pytest
from primes_build.deps.lockcmd import main as primes_lock

from tools.story import build, copy_sources, deploy, primenode, set_version

pytestmark = pytest.mark.e2e

VERSION_CALL = '''

def sorted_version() -> str:
    """The version of the locked sortedcontainers this node runs, and a use of it."""
    import sortedcontainers

    assert list(sortedcontainers.SortedList([3, 1, 2])) == [1, 2, 3]
    return str(sortedcontainers.__version__)
'''


def require(src: Path, requirement: str) -> None:
    path = src / "apps" / "prime_miner" / "pyproject.toml"
    text = path.read_text()
    start = text.index("dependencies = [")
    end = text.index("]", start)
    path.write_text(
        f'{text[:start]}dependencies = ["primes-runtime", "{requirement}"]{text[end + 1 :]}'
    )


def test_a_real_pypi_package_is_locked_shipped_used_and_upgraded_hot(tmp_path: Path) -> None:
    src = copy_sources(tmp_path / "src")
    dist = tmp_path / "dist"
    require(src, "sortedcontainers>=2.3,<2.4")
    with (src / "apps" / "prime_miner" / "pm.py").open("a") as pm:
        pm.write(VERSION_CALL)
    assert primes_lock(["--project", str(src)]) == 0
    one = build(src, dist)
    require(src, "sortedcontainers>=2.4")
    set_version(src / "primes.toml", "2")
    assert primes_lock(["--project", str(src)]) == 0
    two = build(src, dist)

    root = tmp_path / "srv" / "primenode"
    deploy(one, root)
    primenode(root, "start")
    try:
        assert primenode(root, "rpc", "pm", "sorted_version").stdout.strip() == "2.3.0"
        before = int(primenode(root, "rpc", "pm", "count").stdout)
        pid = primenode(root, "pid").stdout.strip()
        primenode(root, "upgrade", str(two))
        assert primenode(root, "rpc", "pm", "sorted_version").stdout.strip() == "2.4.0"
        assert int(primenode(root, "rpc", "pm", "count").stdout) >= before
        assert primenode(root, "pid").stdout.strip() == pid
    finally:
        primenode(root, "stop", check=False)
