"""`make demo`: the seed's four-step story, run with the real commands in ./demo."""

from __future__ import annotations

import json
import shutil
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.story import REPO, StoryError, build, bump, copy_sources, deploy, primenode

SCRATCH = REPO / "demo"


def step(number: int, text: str) -> None:
    """Print one progress line."""
    print(f"[{number}/9] {text}", flush=True)


def show(text: str) -> None:
    """Print what a command answered, indented."""
    for line in text.strip().splitlines():
        print(f"      {line}", flush=True)


def count(root: Path) -> int:
    """How many primes the running node holds (`bin/primenode rpc pm count`)."""
    return int(primenode(root, "rpc", "pm", "count").stdout.strip())


def mining_rate(root: Path, seconds: float) -> int:
    """Primes found in `seconds`, as two `rpc pm count` calls see it."""
    before = count(root)
    time.sleep(seconds)
    return count(root) - before


def copy_at_release_1(src: Path) -> None:
    """Copy the sources and set release 1 and prime_miner 1, whatever the working tree says
    (after the README's quick start by hand it says 2)."""
    copy_sources(src)
    bump(src, "1")


def main() -> int:
    """Run the story; 0 if every step did what it should."""
    node = SCRATCH / "node"
    if (node / "bin" / "primenode").exists():
        primenode(node, "stop", check=False)
    shutil.rmtree(SCRATCH, ignore_errors=True)
    src, dist = SCRATCH / "src", SCRATCH / "dist"
    try:
        step(1, f"copy the sources to {src} at release 1 (your files stay untouched)")
        copy_at_release_1(src)
        step(2, "python -m build  (release 1)")
        package1 = build(src, dist)
        show(package1.name)
        step(3, f"tar -xzf {package1.name} -C {node}; bin/primenode start")
        deploy(package1, node)
        primenode(node, "start")
        show("ping: " + primenode(node, "ping").stdout)
        time.sleep(1.0)
        largest = primenode(node, "rpc", "pm", "largest_prime").stdout.strip()
        before = count(node)
        show(f"largest prime {largest}, {before} primes held")
        port = primenode(node, "rpc", "frontman", "port").stdout.strip()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
            show(f"GET http://127.0.0.1:{port}/ -> {json.loads(reply.read())}")
        step(4, 'bump version = "2" in apps/prime_miner/pyproject.toml and primes.toml')
        bump(src, "2")
        step(5, "python -m build  (release 2, with upgrade instructions 1 -> 2 and 2 -> 1)")
        package2 = build(src, dist)
        show(package2.name)
        step(6, f"bin/primenode upgrade {package2.name}")
        show(primenode(node, "upgrade", str(package2)).stdout)
        show(primenode(node, "versions").stdout)
        after = count(node)
        rate = mining_rate(node, 2.0)
        show(f"{after} primes held after the upgrade (had {before}); {rate} new in 2 s")
        kept = after >= before
        faster = rate >= 5
        step(7, "bin/primenode downgrade 1")
        show(primenode(node, "downgrade", "1").stdout)
        show(primenode(node, "versions").stdout)
        after_down = count(node)
        show(f"{after_down} primes held after the downgrade")
        step(8, "bin/primenode stop")
        primenode(node, "stop")
        step(9, "result")
    except StoryError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        if (node / "bin" / "primenode").exists():
            primenode(node, "stop", check=False)
        return 1
    ok = kept and faster and after_down >= after
    verdict = "SUCCESS" if ok else "FAILURE"
    print(
        f"{verdict}: primes kept across upgrade ({before} -> {after}) and downgrade "
        f"({after} -> {after_down}); mining after the upgrade: {rate} primes in 2 s",
        flush=True,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
