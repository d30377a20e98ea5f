"""Two ratelimiter releases that differ by their runtime's version (examples/ratelimiter, its
runtime copied and bumped), built with python -m build: an upgrade from 1 to 2 is a hand-over.
Used by tests/e2e/test_handover.py."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import threading
import time
from pathlib import Path

from tools.asgi_example import ExampleError, Load, build, copy_example, get


def bump(toml: Path, old: str, new: str) -> None:
    """Change the file's first `version = "<old>"` line to `<new>`."""
    text = toml.read_text(encoding="utf-8")
    changed, count = re.subn(
        rf'^version = "{re.escape(old)}"$', f'version = "{new}"', text, count=1, flags=re.M
    )
    if count != 1:
        raise ExampleError(f'{toml}: no line version = "{old}" to bump')
    toml.write_text(changed, encoding="utf-8")


def runtime_bumped(src: Path) -> None:
    """Release 2 of the example source at `src`: the same apps on primes-runtime 2."""
    bump(src / "primes.toml", "1", "2")
    bump(src / "runtime" / "pyproject.toml", "1", "2")


def build_pair(work: Path, house: Path, v1: Path) -> Path:
    """Release 2 (runtime bumped), built next to release 1's package `v1`; its package."""
    src = copy_example(work / "src-runtime-2" / "ratelimiter")
    runtime_bumped(src)
    return build(src, work / "dist-runtime-2", house, previous=v1)


def on_python(src: Path, version: str, release: str = "2") -> None:
    """Release `release` of the example source at `src`: the same apps and runtime, on
    Python `version` (`[release] python`)."""
    bump(src / "primes.toml", "1", release)
    toml = src / "primes.toml"
    text = toml.read_text(encoding="utf-8")
    if "\n[release]\n" not in text:
        raise ExampleError(f"{toml}: no [release] table to name the interpreter in")
    toml.write_text(text.replace("\n[release]\n", f'\n[release]\npython = "{version}"\n', 1))


def build_on_python(
    work: Path, house: Path, previous: Path, version: str, release: str = "2"
) -> Path:
    """Release `release` on Python `version`, built next to the package `previous` (the
    release it upgrades); its package."""
    src = copy_example(work / f"src-{release}-python-{version}" / "ratelimiter")
    on_python(src, version, release)
    return build(src, work / f"dist-{release}-python-{version}", house, previous=previous)


def fresh_load(port: int, path: str, seconds: float, clients: int = 4) -> Load:
    """:func:`load_until` for `seconds`."""
    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    timer.start()
    try:
        return load_until(port, path, stop, clients)
    finally:
        timer.cancel()


def load_until(port: int, path: str, stop: threading.Event, clients: int = 4) -> Load:
    """Load 127.0.0.1:port until `stop` is set, with one new connection per request
    (`Connection: close`), so every request needs the listening socket: one refused or
    reset counts as failed."""
    counts = {"ok": 0, "failed": 0}
    worst = [0.0]
    lock = threading.Lock()

    def client() -> None:
        ok = failed = 0
        slowest = 0.0
        while not stop.is_set():
            began = time.monotonic()
            try:
                status, _ = get(port, path)
                ok, failed = (ok + 1, failed) if status == 200 else (ok, failed + 1)
            except (OSError, http.client.HTTPException):
                failed += 1
            slowest = max(slowest, time.monotonic() - began)
        with lock:
            counts["ok"] += ok
            counts["failed"] += failed
            worst[0] = max(worst[0], slowest)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Load(
        "fresh connections", counts["ok"] + counts["failed"], counts["failed"], worst[0] * 1e3
    )


def command(
    script: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """bin/<name> ARGS with `env` added to this environment; whatever it exits with."""
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def node_processes(root: Path) -> list[int]:
    """Pids whose command line names this tree and runs primes_runtime (its nodes)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                args = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
                state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if os.fsencode(str(root)) in args and state != "Z" and b"--root" in args:
                found.append(int(entry))
    return found


def one_node_left(root: Path, timeout: float = 30.0) -> list[int]:
    """The tree's node processes once one at most is left, else when `timeout` passed: a
    hand-over's old node answers the command once the successor serves, then exits."""
    deadline = time.monotonic() + timeout
    found = node_processes(root)
    while len(found) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
        found = node_processes(root)
    return found
