"""A real node killed with SIGKILL around an upgrade boots its permanent release again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from primes_runtime.release import store
from primes_runtime.release.store import StoredRelease

from tests.runtime.release.servers import CODE_CHANGE_V2, counter, up_script
from tests.runtime.release.trees import RUNTIME_DIR, App, mark_permanent, write_release

pytestmark = pytest.mark.usefixtures("node")

# Started by the node as the app's start function. When the file `drive` exists in the tree,
# a thread waits for the apps to run, then calls the release handler inside this node (as
# the control channel would) and records the outcome in `driven`.
APP = """
import threading
import time
from pathlib import Path

from primes_runtime import applications, code_server, node, server


def start():
    pid = server.start("counter", "app", name="counter")
    root = Path(node.current().root)
    (root / "booted.tmp").write_text(str(code_server.current("counter").VSN))
    (root / "booted.tmp").rename(root / "booted")
    drive = root / "drive"
    if drive.exists():
        threading.Thread(target=_drive, args=(root, drive.read_text()), daemon=True).start()
    return pid


def _drive(root, what):
    from primes_runtime.release import handler

    while not applications() or any(a.status != "running" for a in applications()):
        time.sleep(0.01)
    try:
        if what == "upgrade":
            report = handler.upgrade(node.current(), "2")
        else:
            report = handler.install(node.current(), "2")
        text = f"{code_server.current('counter').VSN} {report.summary()}"
    except Exception as exc:
        text = f"FAILED {exc}"
    (root / "driven.tmp").write_text(text)
    (root / "driven.tmp").rename(root / "driven")
"""


def wait_for(path: Path, proc: subprocess.Popen[bytes], root: Path) -> str:
    """Wait until the node writes `path` (or dies, or 30 s pass)."""
    deadline = time.monotonic() + 30
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            log = root / "log" / "node.log"
            tail = log.read_text()[-2000:] if log.exists() else "(no log)"
            pytest.fail(f"node did not write {path.name} (exit {proc.poll()}): {tail}")
        time.sleep(0.02)
    return path.read_text()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "node"
    v1 = App("counter", "1", {"counter": counter(1), "counter_app": APP}, start="counter_app:start")
    v2 = App(
        "counter",
        "2",
        {"counter": counter(2, code_change=CODE_CHANGE_V2), "counter_app": APP},
        start="counter_app:start",
    )
    write_release(root, "1", [v1])
    script = up_script("counter").replace(
        'point_of_no_return\n        suspend {"modules": ["counter"], "timeout": 5.0}\n',
        'point_of_no_return\n        suspend {"modules": ["counter"], "timeout": 5.0}\n'
        '        switch_app_path {"app": "counter", "from_vsn": "1", "to_vsn": "2",'
        ' "from_path": "lib/counter-1", "to_path": "lib/counter-2"}\n',
    )
    assert "switch_app_path" in script
    write_release(root, "2", [v2], relups={"up_from_1": script})
    mark_permanent(root, "1")
    store.write_releases(root, (StoredRelease("1", "permanent"), StoredRelease("2", "unpacked")))
    return root


@pytest.fixture
def nodes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def boot(root: Path, nodes: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(root / RUNTIME_DIR)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    with (root / "console.log").open("ab") as console:
        proc = subprocess.Popen(
            [sys.executable, "-s", "-m", "primes_runtime.node", "--root", str(root)],
            cwd=root,
            env=env,
            stdout=console,
            stderr=subprocess.STDOUT,
        )
    nodes.append(proc)
    return proc


@pytest.mark.parametrize(("drive", "after_restart"), [("install", "1"), ("upgrade", "2")])
def test_a_node_killed_after_install_boots_its_permanent_release(
    tree: Path, nodes: list[subprocess.Popen[bytes]], drive: str, after_restart: str
) -> None:
    (tree / "drive").write_text(drive)
    first = boot(tree, nodes)
    assert wait_for(tree / "booted", first, tree) == "1"
    driven = wait_for(tree / "driven", first, tree)
    assert driven.startswith("2 release 2 installed over 1"), driven  # hot: v2 code runs now
    first.send_signal(signal.SIGKILL)
    first.wait()

    releases = store.read_releases(tree)  # readable after the kill
    if drive == "install":  # killed before make_permanent: 2 is still only unpacked
        assert releases == (StoredRelease("1", "permanent"), StoredRelease("2", "unpacked"))
    else:
        assert releases == (StoredRelease("1", "old"), StoredRelease("2", "permanent"))
    assert store.read_start_data(tree).version == after_restart

    (tree / "drive").unlink()
    (tree / "booted").unlink()
    second = boot(tree, nodes)
    assert wait_for(tree / "booted", second, tree) == after_restart
    second.send_signal(signal.SIGTERM)
    assert second.wait(30) == 0
