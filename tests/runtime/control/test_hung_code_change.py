"""A code_change that never returns: the node rolls back, reports the leaked worker, and
refuses another install until it restarts."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

from .conftest import DEMO_APP, Script, make_package

HANGS = (
    DEMO_APP["demo_app/counter.py"]
    + '''

def code_change(old_vsn, state, extra):
    """Waits for an event nobody sets: a code_change that hangs."""
    import threading

    threading.Event().wait()
'''
)


def with_short_timeouts(package: Path) -> Path:
    """The package with its code_change timeouts cut to 1 s (SHA256SUMS recomputed)."""
    with tarfile.open(package, "r:gz") as tar:
        files = {m.name: (tar.extractfile(m) or io.BytesIO()).read() for m in tar if m.isfile()}
    for name in ("releases/2/up_from_1.relup", "releases/2/down_to_1.relup"):
        files[name] = files[name].replace(b'"timeout": 5.0}', b'"timeout": 1.0}')
    del files["releases/2/SHA256SUMS"]
    files["releases/2/SHA256SUMS"] = "".join(
        f"{hashlib.sha256(body).hexdigest()}  {path}\n" for path, body in sorted(files.items())
    ).encode()
    with tarfile.open(package, "w:gz") as tar:
        for name, body in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return package


def test_a_hung_code_change_is_reported_in_status_and_blocks_the_next_install(
    running: Script, tmp_path: Path
) -> None:
    package = with_short_timeouts(make_package(tmp_path, counter_v2=HANGS))
    assert running.ok("rpc", "demo_api", "incr") == "1\n"
    first = running.run("upgrade", str(package))
    assert first.returncode != 0
    assert "took longer than 1 s" in first.stderr
    assert running.ok("rpc", "demo_api", "incr") == "2\n"  # rolled back, state kept

    status = running.ok("status")
    leaked = [line for line in status.splitlines() if line.startswith("leaked:")]
    assert len(leaked) == 1, status
    assert "demo_app.counter" in leaked[0] and "1 -> 2 install after 1 s" in leaked[0]

    again = running.run("upgrade", str(package))
    assert again.returncode != 0
    assert "a code_change from an earlier install still runs" in again.stderr
    assert "restart the node" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert len([ln for ln in running.ok("status").splitlines() if ln.startswith("leaked:")]) == 1
    assert running.ok("versions").split() == ["1", "permanent"]


def test_after_a_restart_no_worker_is_leaked_and_an_install_may_run_again(
    running: Script, tmp_path: Path
) -> None:
    package = with_short_timeouts(make_package(tmp_path, counter_v2=HANGS))
    assert running.run("upgrade", str(package)).returncode != 0
    running.ok("restart")
    assert "leaked:" not in running.ok("status")
    retried = running.run("upgrade", str(package))
    assert "took longer than 1 s" in retried.stderr
