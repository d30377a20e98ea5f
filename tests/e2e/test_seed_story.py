"""The seed's story end to end, through the real commands only: build, tar, bin/primenode."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools.handover_example import bump as version_line
from tools.story import build, bump, copy_sources, deploy, primenode

pytestmark = pytest.mark.e2e

PM_ADDITION = '''

def release_three() -> str:
    """Added in release 3: shows new code reached the running node."""
    return "three"
'''


@dataclass(frozen=True)
class Packages:
    """Release packages 1, 2, 3 and 4, built in order into one output directory."""

    one: Path
    two: Path
    three: Path
    four: Path  # release 3's apps on primes-runtime 2: a hand-over


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    """Build releases 1, 2 (the seed's version bump) and 3 (a new function in pm)."""
    src = copy_sources(tmp_path_factory.mktemp("src"))
    dist = tmp_path_factory.mktemp("dist")
    one = build(src, dist)
    bump(src, "2")
    two = build(src, dist)
    bump(src, "3")
    with (src / "apps" / "prime_miner" / "pm.py").open("a", encoding="utf-8") as pm:
        pm.write(PM_ADDITION)
    three = build(src, dist)
    version_line(src / "primes.toml", "3", "4")
    version_line(src / "runtime" / "pyproject.toml", "1", "2")
    return Packages(one, two, three, build(src, dist))


@pytest.fixture
def node(tmp_path: Path, packages: Packages) -> Iterator[Path]:
    """Release 1 unpacked with tar into an empty directory and started."""
    root = tmp_path / "srv" / "primenode"
    deploy(packages.one, root)
    primenode(root, "start")
    try:
        yield root
    finally:
        primenode(root, "stop", check=False)


def count(root: Path) -> int:
    return int(primenode(root, "rpc", "pm", "count").stdout)


def largest(root: Path) -> int:
    return int(primenode(root, "rpc", "pm", "largest_prime").stdout)


def versions(root: Path) -> dict[str, str]:
    lines = primenode(root, "versions").stdout.split("\n")
    return dict(line.split()[:2] for line in lines if line.strip())  # type: ignore[misc]


def wait_for_count(root: Path, at_least: int, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    seen = count(root)
    while seen < at_least and time.monotonic() < deadline:
        time.sleep(0.2)
        seen = count(root)
    return seen


def test_release_one_answers_ping_and_holds_the_seed_primes(node: Path) -> None:
    assert primenode(node, "ping").stdout.strip() == "pong"
    assert count(node) >= 6
    assert largest(node) >= 13


def test_upgrade_to_two_keeps_the_primes_and_mines_faster(node: Path, packages: Packages) -> None:
    before_count, before_largest = count(node), largest(node)
    primenode(node, "upgrade", str(packages.two))
    assert versions(node) == {"2": "permanent", "1": "old"}
    after = count(node)
    assert after >= before_count
    assert largest(node) >= before_largest
    # version 1 mines every 10 s; after from1to2 every 100 ms
    assert wait_for_count(node, after + 10, seconds=30) >= after + 10


def test_downgrade_from_two_to_one_keeps_the_primes_and_slows_down(
    node: Path, packages: Packages
) -> None:
    primenode(node, "upgrade", str(packages.two))
    grown = wait_for_count(node, count(node) + 5, seconds=30)
    primenode(node, "downgrade", "1")
    assert versions(node)["1"] == "permanent"
    after = count(node)
    assert after >= grown
    time.sleep(2.0)
    assert count(node) <= after + 1  # back to one prime every 10 s


def test_chained_upgrade_one_two_three_reaches_the_new_code(node: Path, packages: Packages) -> None:
    primenode(node, "upgrade", str(packages.two))
    held = count(node)
    primenode(node, "upgrade", str(packages.three))
    assert versions(node)["3"] == "permanent"
    assert count(node) >= held
    assert primenode(node, "rpc", "pm", "release_three").stdout.strip() == "three"


def test_direct_upgrade_from_one_to_three_keeps_the_primes(node: Path, packages: Packages) -> None:
    held = count(node)
    primenode(node, "upgrade", str(packages.three))
    assert versions(node) == {"3": "permanent", "1": "old"}
    assert count(node) >= held
    assert primenode(node, "rpc", "pm", "release_three").stdout.strip() == "three"


def test_a_restart_boots_the_permanent_release_with_its_code(
    node: Path, packages: Packages
) -> None:
    primenode(node, "upgrade", str(packages.three))
    primenode(node, "restart")
    assert primenode(node, "ping").stdout.strip() == "pong"
    assert primenode(node, "rpc", "pm", "release_three").stdout.strip() == "three"


def test_upgrading_with_the_sdist_is_refused_naming_the_release_package_beside_it(
    node: Path, packages: Packages
) -> None:
    sdist = packages.two.with_name("primenode-2.tar.gz")
    assert sdist.is_file()  # python -m build writes both into dist/
    refused = primenode(node, "upgrade", str(sdist), check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"primenode: {sdist}: refused, this is a source distribution (sdist), not a release "
        "package; unpack primenode_2.tar.gz (it is next to this one), the file python -m build "
        "wrote beside it"
    )
    assert primenode(node, "versions").stdout == "1 permanent\n"


def test_a_release_on_a_new_runtime_hands_the_node_over_with_its_primes_and_frontman(
    node: Path, packages: Packages
) -> None:
    before_pid = primenode(node, "pid").stdout.strip()
    port = primenode(node, "rpc", "frontman", "port").stdout.strip()
    primenode(node, "upgrade", str(packages.two))  # mines every 100 ms
    seen = wait_for_count(node, 12, 30)
    moved = primenode(node, "upgrade", str(packages.four))
    assert f"release 4 handed over from 2: node pid {before_pid} -> " in moved.stdout
    assert "listening sockets (frontman, primes.control)" in moved.stdout
    assert primenode(node, "pid").stdout.strip() != before_pid
    assert count(node) >= seen  # every prime moved with the miner's state
    assert wait_for_count(node, seen + 3, 30) >= seen + 3  # and it mines on, in the successor
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as answer:
        assert json.loads(answer.read())["release"] == "4"  # the same port, the new node
    runtime = "import primes_runtime, os; os.path.dirname(primes_runtime.__file__)"
    assert "lib/primes_runtime-2/" in primenode(node, "eval", runtime).stdout
