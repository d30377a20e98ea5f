"""Probation through the real bin/primenode: a crash on the new code rolls the upgrade back.

A key-value app: release 1 keeps `key -> value`; release 2 expects `{"items": ..., "writes":
n}`. Without a code_change (the case of issue 15, item 6) its first call crashed and the
supervisor restarted it empty; on probation the upgrade is rolled back and no key is lost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import DEMO_APP, Script, build_tree, make_package

SUP = '''"""The demo app's top supervisor: a counter and a key-value store."""

from primes_runtime.supervisor import ChildSpec, SupSpec


def init(args):
    return SupSpec(
        strategy="one_for_one",
        children=[
            ChildSpec(id="counter", start=("demo_app.counter", "start_link", ())),
            ChildSpec(id="kv", start=("demo_app.kv", "start_link", ())),
        ],
    )
'''

KV_V1 = '''"""The store, version 1: the state is the table, key -> value."""

import primes_runtime
from primes_runtime.server import Reply


def start_link():
    return primes_runtime.start_server("demo_app.kv", None, name="kv")


def init(args):
    return {}


def handle_call(request, caller, state):
    match request:
        case ("put", key, value):
            return Reply("ok", {**state, key: value})
        case ("get", key):
            return Reply(state.get(key), state)
        case "keys":
            return Reply(sorted(state), state)
    return Reply(None, state)
'''

KV_V2 = '''"""The store, version 2: the state counts writes next to the table."""

import primes_runtime
from primes_runtime.server import Reply


def start_link():
    return primes_runtime.start_server("demo_app.kv", None, name="kv")


def init(args):
    return {"items": {}, "writes": 0}


def handle_call(request, caller, state):
    items = state["items"]
    match request:
        case ("put", key, value):
            return Reply("ok", {"items": {**items, key: value}, "writes": state["writes"] + 1})
        case ("get", key):
            return Reply(items.get(key), state)
        case "keys":
            return Reply(sorted(items), state)
        case "boom":
            raise RuntimeError("version 2 cannot do that")
    return Reply(None, state)
'''

KV_CODE_CHANGE = '''

def code_change(old_vsn, state, extra):
    """Up: wrap the table; down: unwrap it (writes are dropped)."""
    if isinstance(old_vsn, (list, tuple)) and old_vsn[0] == "down":
        return dict(state["items"])
    return {"items": dict(state), "writes": 0}
'''

COUNTER_V2 = (
    DEMO_APP["demo_app/counter.py"].replace(
        "Reply(state + 1, state + 1)", "Reply(state, state + 100)"
    )
    + '''

def code_change(old_vsn, state, extra):
    """Version 2 counts in hundreds: up multiplies, down divides."""
    return state * 100 if extra == "up" else state // 100
'''
)

API = '''"""Functions the tests call with rpc."""

import primes_runtime


def put(key, value):
    return primes_runtime.call("kv", ("put", key, value))


def get(key):
    return primes_runtime.call("kv", ("get", key))


def keys():
    return primes_runtime.call("kv", "keys")


def boom():
    return primes_runtime.call("kv", "boom")


def incr():
    return primes_runtime.call("counter", "incr")


def count():
    return primes_runtime.call("counter", "get")
'''

API_V2 = (
    API
    + """

def version():
    return "two"
"""
)

MODULES = '["demo_app.counter", "demo_app.kv", "demo_api"]'
PROCS = '["demo_app.counter", "demo_app.kv"]'

UP = f"""\
# kv 1 -> 2
load_object_code {{"app": "demo_app", "from_vsn": "1", "to_vsn": "2", "path": "lib/demo_app-2", \
"modules": {MODULES}}}
point_of_no_return
suspend {{"modules": {PROCS}, "timeout": 5.0}}
switch_app_path {{"app": "demo_app", "from_vsn": "1", "to_vsn": "2", \
"from_path": "lib/demo_app-1", "to_path": "lib/demo_app-2"}}
load {{"module": "demo_app.counter"}}
load {{"module": "demo_app.kv"}}
code_change {{"modules": {PROCS}, "mode": "up", "old_vsn": "1", "extra": "up", "timeout": 5.0}}
resume {{"modules": {PROCS}}}
load {{"module": "demo_api"}}
"""

DOWN = f"""\
# kv 2 -> 1
load_object_code {{"app": "demo_app", "from_vsn": "2", "to_vsn": "1", "path": "lib/demo_app-1", \
"modules": {MODULES}}}
point_of_no_return
suspend {{"modules": {PROCS}, "timeout": 5.0}}
code_change {{"modules": {PROCS}, "mode": "down", "old_vsn": ["down", "1"], "extra": "down", \
"timeout": 5.0}}
switch_app_path {{"app": "demo_app", "from_vsn": "2", "to_vsn": "1", \
"from_path": "lib/demo_app-2", "to_path": "lib/demo_app-1"}}
load {{"module": "demo_app.counter"}}
load {{"module": "demo_app.kv"}}
resume {{"modules": {PROCS}}}
load {{"module": "demo_api"}}
"""

APP_V1 = {**DEMO_APP, "demo_app/sup.py": SUP, "demo_app/kv.py": KV_V1, "demo_api.py": API}


def app_v2(kv: str) -> dict[str, str]:
    """Release 2's app: store `kv`, the counter in hundreds, demo_api with version()."""
    files = {"demo_app/kv.py": kv, "demo_app/counter.py": COUNTER_V2, "demo_api.py": API_V2}
    return {**APP_V1, **files}


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Script]:
    """Release 1 of the key-value app, started, with keys a, b, c and the counter at 2."""
    script = Script(build_tree(tmp_path / "srv" / "primenode", app=APP_V1))
    script.ok("start")
    try:
        for key in "abc":
            script.ok("rpc", "demo_api", "put", repr(key), repr(key.upper()))
        script.ok("rpc", "demo_api", "incr")
        script.ok("rpc", "demo_api", "incr")
        yield script
    finally:
        script.run("stop")


def rpc(node: Script, *args: str) -> str:
    return node.ok("rpc", "demo_api", *args).strip()


def start_upgrade(node: Script, package: Path, *options: str) -> subprocess.Popen[str]:
    """`upgrade` in the background; returns once release 2's code runs (its window is open)."""
    env = {k: v for k, v in os.environ.items() if k != "PRIMES_COOKIE"}
    env.setdefault("PRIMES_PYTHON", sys.executable)
    command = [str(node.path), "upgrade", *options, str(package)]
    upgrade = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while node.run("rpc", "demo_api", "version").stdout.strip() != "two":
        assert upgrade.poll() is None, upgrade.communicate()
        assert time.monotonic() < deadline, "release 2's code never ran"
        time.sleep(0.05)
    return upgrade


def test_an_upgrade_whose_first_call_crashes_is_rolled_back_and_every_key_is_still_there(
    node: Script, tmp_path: Path
) -> None:
    package = make_package(tmp_path, app_v2=app_v2(KV_V2), scripts=(UP, DOWN))
    upgrade = start_upgrade(node, package, "--probation", "60")
    crashed = node.run("rpc", "demo_api", "get", "'a'")
    out, err = upgrade.communicate(timeout=60)
    assert crashed.returncode == 1
    assert "not retried" in crashed.stderr
    assert upgrade.returncode == 1, (out, err)
    line = err.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in err
    assert "demo_app.kv" in line and "kv" in line
    assert "crashed handling a call" in line and "KeyError: 'items'" in line
    assert "release 1 is still current" in line
    assert "not retried" in out
    assert rpc(node, "keys") == "['a', 'b', 'c']"
    assert rpc(node, "get", "'b'") == "B"
    assert rpc(node, "count") == "2"
    assert node.run("rpc", "demo_api", "version").returncode == 1  # release 1's demo_api
    assert node.ok("versions").split() == ["1", "permanent", "2", "unpacked"]
    start_data = (node.root / "releases" / "start_data").read_text(encoding="utf-8")
    assert start_data.startswith("1 ")


def test_a_crash_on_version_2_converts_every_touched_process_down_keeping_its_writes(
    node: Script, tmp_path: Path
) -> None:
    package = make_package(tmp_path, app_v2=app_v2(KV_V2 + KV_CODE_CHANGE), scripts=(UP, DOWN))
    upgrade = start_upgrade(node, package, "--probation", "60", "--json")
    assert rpc(node, "put", "'d'", "'D'") == "ok"  # version 2 handles it
    assert rpc(node, "incr") == "200"  # version 2 counts in hundreds: 200 -> 300
    assert node.run("rpc", "demo_api", "boom").returncode == 1
    out, err = upgrade.communicate(timeout=60)
    assert upgrade.returncode == 1, (out, err)
    data = json.loads(out)
    report = data["report"]
    assert report["rolled_back"] is True and report["permanent"] is False
    trial = report["probation"]
    assert trial["passed"] is False and trial["retried"] is False and trial["seconds"] == 60
    crash = trial["crash"]
    assert (crash["name"], crash["module"], crash["kind"]) == ("kv", "demo_app.kv", "call")
    assert crash["error"] == "RuntimeError: version 2 cannot do that"
    assert crash["state"] == "converted down"
    assert "down_to_1.relup" in trial["rollback"]
    assert len(trial["converted"]) == 1  # the counter
    assert rpc(node, "keys") == "['a', 'b', 'c', 'd']"  # the write made on version 2 is kept
    assert rpc(node, "count") == "3"  # 300 converted down, not the snapshot's 2
    assert node.ok("versions").split() == ["1", "permanent", "2", "unpacked"]


def test_without_a_down_script_the_crashed_process_gets_its_pre_upgrade_snapshot(
    node: Script, tmp_path: Path
) -> None:
    package = make_package(tmp_path, app_v2=app_v2(KV_V2 + KV_CODE_CHANGE), scripts=(UP, ""))
    upgrade = start_upgrade(node, package, "--probation", "60", "--json")
    assert rpc(node, "put", "'d'", "'D'") == "ok"
    assert node.run("rpc", "demo_api", "boom").returncode == 1
    out, _ = upgrade.communicate(timeout=60)
    trial = json.loads(out)["report"]["probation"]
    assert upgrade.returncode == 1
    assert trial["crash"]["state"] == "pre-upgrade snapshot"
    assert "no releases/2/down_to_1.relup" in trial["rollback"]
    assert rpc(node, "keys") == "['a', 'b', 'c']"
    assert rpc(node, "count") == "2"


def test_a_window_that_passes_cleanly_makes_the_upgrade_permanent(
    node: Script, tmp_path: Path
) -> None:
    package = make_package(
        tmp_path, app_v2=app_v2(KV_V2 + KV_CODE_CHANGE), scripts=(UP, DOWN),
        node_extra="probation = 1.5\n",
    )  # fmt: skip
    start = time.monotonic()
    out = node.ok("upgrade", str(package))
    took = time.monotonic() - start
    assert took >= 1.5
    assert "made permanent" in out
    assert "probation: 2 process(es) ran it 1.5 s without a crash" in out
    assert node.ok("versions").split() == ["1", "old", "2", "permanent"]
    assert rpc(node, "keys") == "['a', 'b', 'c']"


def test_status_answers_during_the_window_and_check_code_after_it(
    node: Script, tmp_path: Path
) -> None:
    package = make_package(tmp_path, app_v2=app_v2(KV_V2 + KV_CODE_CHANGE), scripts=(UP, DOWN))
    upgrade = start_upgrade(node, package, "--probation", "10")
    status = json.loads(node.ok("status", "--json"))
    assert upgrade.poll() is None  # status did not wait for the release operation
    assert status["release"] == "1" and "stale_code" in status  # 2 is still on trial
    checked = json.loads(node.ok("check-code", "--json"))  # waits the window out
    assert (checked["release"], checked["stale"]) == ("2", [])
    listed = json.loads((node.root / "releases" / "RELEASES").read_text(encoding="utf-8"))
    assert {r["version"]: r["status"] for r in listed["releases"]}["2"] == "permanent"
    out, err = upgrade.communicate(timeout=60)
    assert upgrade.returncode == 0 and "made permanent" in out, (out, err)
    assert node.ok("versions").split() == ["1", "old", "2", "permanent"]


def test_probation_0_installs_at_once_as_before_whatever_node_toml_says(
    node: Script, tmp_path: Path
) -> None:
    package = make_package(
        tmp_path, app_v2=app_v2(KV_V2), scripts=(UP, DOWN), node_extra="probation = 600\n"
    )
    start = time.monotonic()
    out = node.ok("upgrade", "--probation", "0", "--json", str(package))
    assert time.monotonic() - start < 60
    report = json.loads(out)
    assert report["ok"] is True and report["permanent"] is True
    assert node.ok("versions").split() == ["1", "old", "2", "permanent"]


def test_a_negative_probation_is_one_usage_line(node: Script, tmp_path: Path) -> None:
    package = make_package(tmp_path, app_v2=app_v2(KV_V2), scripts=(UP, DOWN))
    result = node.run("upgrade", "--probation", "-1", str(package))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "number of seconds" in result.stderr
    assert node.ok("versions").split() == ["1", "permanent"]
