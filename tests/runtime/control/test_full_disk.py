"""A node whose tree sits on a full disk (a 16 MiB tmpfs, mounted in a mount namespace of its
own): unpack, check and upgrade say that the disk is full and where, and change nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Script, make_package

pytestmark = pytest.mark.e2e

DRIVER = """
import json, os, shutil, subprocess, sys
tree, disk, package = sys.argv[1:4]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", disk], check=True)
root = shutil.copytree(tree, os.path.join(disk, "primenode"), symlinks=True)
script = os.path.join(root, "bin", "primenode")
def run(*args):
    done = subprocess.run([script, *args], capture_output=True, text=True, timeout=120)
    return {"args": list(args), "rc": done.returncode, "out": done.stdout, "err": done.stderr}
results = [run("start")]
with open(os.path.join(disk, "filler"), "wb", buffering=0) as filler:  # nothing left to flush
    try:
        while True:
            filler.write(b"\\0" * 65536)
    except OSError:
        pass
results += [run(*args) for args in (("unpack", package), ("check", package), ("upgrade", package))]
results += [run("versions"), run("ping")]
results.append(sorted(os.listdir(os.path.join(root, "releases"))))
results.append(sorted(os.listdir(os.path.join(root, "lib"))))
run("stop")
print(json.dumps(results))
"""


@pytest.fixture
def mount_namespace() -> None:
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux)")
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("cannot make a mount namespace here (needs root)")


@pytest.mark.usefixtures("mount_namespace")
def test_unpack_check_and_upgrade_on_a_full_disk_say_so_in_one_line_and_change_nothing(
    script: Script, tmp_path: Path
) -> None:
    package = make_package(tmp_path)
    disk = tmp_path / "disk"
    disk.mkdir()
    argv = ["unshare", "--mount", "--propagation", "private", sys.executable, "-c", DRIVER]
    done = subprocess.run(
        [*argv, str(script.root), str(disk), str(package)],
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PRIMES_PYTHON": sys.executable},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    started, *commands, versions, ping, releases, lib = json.loads(done.stdout)
    assert started["rc"] == 0, started
    root = disk / "primenode"
    for result in commands:
        assert result["rc"] == 1, result
        assert result["err"].count("\n") == 1, result
        assert "the disk is full (no space left on the file system holding " in result["err"]
        assert str(root) in result["err"], result
        assert "not a readable" not in result["err"] and "Traceback" not in result["err"]
    assert versions["out"] == "1 permanent\n" and ping["out"] == "pong\n"
    assert releases == ["1", "RELEASES", "start_data"]
    assert lib == ["demo_app-1", "primes_runtime-1"]
