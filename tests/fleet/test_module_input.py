"""Bad input to primes_release is one clear failed task, run through the `ansible` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.fleet.fleet import BIN, ansible_env


def module(tmp_path: Path, args: str) -> dict[str, object]:
    """Run the module once on localhost (ansible_connection=local); its JSON result."""
    env = ansible_env(tmp_path)
    env["ANSIBLE_LOAD_CALLBACK_PLUGINS"] = "1"
    env["ANSIBLE_STDOUT_CALLBACK"] = "oneline"
    argv = [
        str(BIN / "ansible"),
        "localhost",
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        f"ansible_python_interpreter={sys.executable}",
        "-m",
        "primes.release.primes_release",
        "-a",
        args,
    ]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0, proc.stdout
    _, _, payload = proc.stdout.partition("=> ")
    result = json.loads(payload)
    assert isinstance(result, dict)
    return result


def test_a_package_missing_on_the_controller_is_a_failed_task_saying_so(tmp_path: Path) -> None:
    result = module(tmp_path, f"root={tmp_path} package={tmp_path}/primenode_9.tar.gz")
    assert result["msg"] == f"package {tmp_path}/primenode_9.tar.gz not found on the controller"


def test_a_root_that_is_not_a_release_tree_is_a_failed_task_naming_the_script(
    tmp_path: Path,
) -> None:
    result = module(tmp_path, f"root={tmp_path} version=2")
    assert result["msg"] == (
        f"{tmp_path}/bin/primenode: no such start script; is {tmp_path} a deployed primenode tree?"
    )


def test_a_downgrade_together_with_a_version_is_refused_by_the_argument_spec(
    tmp_path: Path,
) -> None:
    result = module(tmp_path, f"root={tmp_path} downgrade=1 version=2")
    assert "mutually exclusive: downgrade|version" in str(result["msg"])
