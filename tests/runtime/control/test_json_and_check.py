"""check, --json and the exit codes through the real bin/primenode (docs/operations.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import COUNTER_V2, Script, make_package
from .test_node_commands import node_pid


def as_json(script: Script, *args: str, code: int = 0, **kw: object) -> dict[str, object]:
    """Run a command with --json: exactly one JSON object on stdout, and the exit code."""
    result = script.run(*args, "--json", **kw)  # type: ignore[arg-type]
    assert result.returncode == code, (args, result.stdout, result.stderr)
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    value = json.loads(lines[0])
    assert isinstance(value, dict)
    assert value["command"] == args[0]
    assert value["ok"] is (code == 0)
    return value


def test_versions_json_without_and_with_a_node(script: Script) -> None:
    releases = [{"version": "1", "status": "permanent"}]
    expected = {
        "ok": True,
        "command": "versions",
        "running": False,
        "releases": releases,
        "packages": "unsigned",
    }
    assert as_json(script, "versions") == expected
    script.ok("start")
    try:
        assert as_json(script, "versions") == {**expected, "running": True}
    finally:
        script.run("stop")


def test_status_json_names_every_field(running: Script) -> None:
    status = as_json(running, "status")
    assert set(status) == {
        "ok", "command", "node", "pid", "release", "runtime", "uptime_s", "applications",
        "processes", "packages", "leaked_code_change_workers", "old_code", "failed_applications",
        "stale_code",
    }  # fmt: skip
    assert status["packages"] == "unsigned"
    assert status["leaked_code_change_workers"] == []
    assert status["old_code"] == []
    assert status["failed_applications"] == []
    assert status["stale_code"] == []
    assert status["node"] == "testnode"
    assert status["pid"] == node_pid(running)
    assert status["release"] == "1"
    assert isinstance(status["uptime_s"], float)
    assert {"name": "demo_app", "version": "1", "status": "running"} in status["applications"]  # type: ignore[operator]
    processes = status["processes"]
    assert isinstance(processes, list)
    counter = next(p for p in processes if p["name"] == "counter")
    assert set(counter) == {
        "pid", "name", "behaviour", "module", "app", "app_version", "mailbox", "status"
    }  # fmt: skip
    assert counter["module"] == "demo_app.counter"
    assert counter["app"] == "demo_app"
    assert counter["app_version"] == "1"


def test_check_unpacks_and_dry_runs_without_changing_the_node(
    running: Script, tmp_path: Path
) -> None:
    package = make_package(tmp_path)
    assert running.ok("rpc", "demo_api", "incr") == "1\n"
    out = running.ok("check", str(package))
    assert out.startswith("release 2 can be installed over 1 (releases/2/up_from_1.relup, ")
    assert "demo_app.counter: 1 process(es) to suspend" in out
    assert "unpacked release 2 for this check; it stays unpacked" in out
    assert running.ok("versions") == "1 permanent\n2 unpacked\n"
    assert running.run("rpc", "demo_api", "version").returncode == 1  # still release 1's code
    assert running.ok("rpc", "demo_api", "incr") == "2\n"  # state untouched
    checked = as_json(running, "check", "2")
    assert checked == {
        "ok": True,
        "command": "check",
        "from_version": "1",
        "to_version": "2",
        "script": "releases/2/up_from_1.relup",
        "instructions": checked["instructions"],
        "modules_prepared": ["demo_api", "demo_app.counter"],
        "processes": [{"module": "demo_app.counter", "count": 1}],
        "warnings": [],
        "unpacked": False,
        "upgrade": "hot",
        "why": "the runtime and the interpreter stay the same",
        "way": "upgrade",
    }
    assert isinstance(checked["instructions"], int) and checked["instructions"] > 0


def test_check_of_an_unknown_version_is_refused_with_exit_1(running: Script) -> None:
    failed = as_json(running, "check", "9", code=1)
    assert str(failed["error"]).startswith("release 9 is not unpacked")
    assert failed["report"] is None and failed["exit_code"] == 1


def test_unpack_install_and_downgrade_json_reports(running: Script, tmp_path: Path) -> None:
    package = make_package(tmp_path)
    assert as_json(running, "unpack", str(package)) == {
        "ok": True, "command": "unpack", "version": "2"
    }  # fmt: skip
    installed = as_json(running, "install", "2")
    assert installed["from_version"] == "1" and installed["to_version"] == "2"
    assert installed["direction"] == "up"
    assert installed["script"] == "releases/2/up_from_1.relup"
    assert installed["failed"] is None and installed["rolled_back"] is False
    assert installed["permanent"] is False and installed["rollback_problems"] == []
    pauses = installed["pauses"]
    assert isinstance(pauses, list) and len(pauses) == 1
    assert set(pauses[0]) == {"pid", "name", "module", "ms"}
    assert pauses[0]["name"] == "counter" and pauses[0]["module"] == "demo_app.counter"
    assert installed["max_pause_ms"] == round(pauses[0]["ms"], 3)
    running.ok("permanent", "2")
    down = as_json(running, "downgrade", "1")
    assert down["direction"] == "down" and down["permanent"] is True
    assert down["to_version"] == "1" and down["script"] == "releases/2/down_to_1.relup"


def test_upgrade_json_from_a_package(running: Script, tmp_path: Path) -> None:
    package = make_package(tmp_path)
    upgraded = as_json(running, "upgrade", str(package))
    assert upgraded["ok"] is True and upgraded["permanent"] is True
    assert upgraded["to_version"] == "2"
    assert running.ok("versions") == "1 old\n2 permanent\n"


def test_a_failed_upgrade_is_one_json_object_naming_the_step_and_the_rollback(
    running: Script, tmp_path: Path
) -> None:
    failing = COUNTER_V2.replace('"""Version 2', 'raise ValueError("cannot migrate")\n    """')
    package = make_package(tmp_path, counter_v2=failing)
    failed = as_json(running, "upgrade", str(package), code=1)
    assert failed["exit_code"] == 1
    assert str(failed["error"]).startswith("install of 2 failed at releases/2/up_from_1.relup:7 ")
    report = failed["report"]
    assert isinstance(report, dict)
    assert report["ok"] is False and report["rolled_back"] is True
    step = report["failed"]
    assert isinstance(step, dict)
    assert step["script"] == "releases/2/up_from_1.relup" and step["line"] == 7
    assert step["instruction"].startswith("code_change")
    assert step["reason"].endswith("raised ValueError: cannot migrate")
    assert running.ok("versions") == "1 permanent\n"


def test_a_command_needing_the_node_without_one_is_exit_3_also_in_json(script: Script) -> None:
    failed = as_json(script, "status", code=3)
    assert failed["exit_code"] == 3
    assert str(failed["error"]).startswith("the node is not running")


def test_a_usage_error_with_json_is_exit_2_and_one_json_object(script: Script) -> None:
    failed = as_json(script, "install", code=2)
    assert failed["error"] == (
        "install: the following arguments are required: VSN; see 'primenode install --help'"
    )


def test_the_exit_codes_0_1_2_3_through_the_script(script: Script) -> None:
    assert script.run("ping").returncode == 3
    assert script.run("fly").returncode == 2
    assert script.run("install").returncode == 2
    script.ok("start")
    try:
        assert script.run("ping").returncode == 0
        assert script.run("install", "9").returncode == 1
        assert script.run("start").returncode == 1
    finally:
        assert script.run("stop").returncode == 0
    assert script.run("stop").returncode == 3


def test_every_command_has_help(script: Script) -> None:
    for command in ["start", "stop", "status", "check", "upgrade", "rpc", "eval", "help"]:
        result = script.run(command, "--help")
        assert result.returncode == 0, command
        assert result.stdout.startswith(f"usage: primenode {command}"), result.stdout
    top = script.run("--help")
    assert top.returncode == 0 and "Exit status: 0 done" in top.stdout


def test_the_node_sends_batches_only_to_a_client_that_asks_and_json_prints_one_per_process(
    running: Script, tmp_path: Path
) -> None:
    from primes_runtime.control.client import Client
    from primes_runtime.control.cookie import client_cookie
    from primes_runtime.control.tree import Tree

    running.ok("unpack", str(make_package(tmp_path)))
    tree = Tree(running.root)
    with Client.connect(tree, lambda: client_cookie(tree, None), timeout=30.0) as client:
        older = client.request("install", version="2").value  # a client before batches
        assert isinstance(older, dict) and "pause_batches" not in older
        assert [p["module"] for p in older["pauses"]] == ["demo_app.counter"]  # type: ignore[index, union-attr]
        client.request("downgrade", version="1")
        newer = client.request("install", version="2", pause_batches=True).value
    assert isinstance(newer, dict) and "pauses" not in newer
    (batch,) = newer["pause_batches"]  # type: ignore[misc]
    assert batch["module"] == "demo_app.counter" and batch["names"] == {batch["pids"][0]: "counter"}
    running.ok("downgrade", "1")
    printed = as_json(running, "upgrade", "2")
    assert "pause_batches" not in printed
    assert [p["name"] for p in printed["pauses"]] == ["counter"]  # type: ignore[index, union-attr]


def test_after_an_upgrade_every_thread_of_the_node_has_all_its_cores_again(
    running: Script, tmp_path: Path
) -> None:
    # the upgrade keeps to one core meanwhile, the node's other threads to the rest
    code = (
        "import os\n"
        "tasks = os.listdir('/proc/self/task')\n"
        "sorted({tuple(sorted(os.sched_getaffinity(int(t)))) for t in tasks})"
    )
    before = running.ok("eval", code)
    assert as_json(running, "upgrade", str(make_package(tmp_path)))["to_version"] == "2"
    assert running.ok("eval", code) == before == f"[{tuple(sorted(os.sched_getaffinity(0)))}]\n"


def test_a_release_command_keeps_to_the_last_core_it_may_use() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "from primes_runtime.release.cores import keep_to_last_core\n"
         "import os; keep_to_last_core(); print(sorted(os.sched_getaffinity(0)))"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert out == f"[{max(os.sched_getaffinity(0))}]\n"
