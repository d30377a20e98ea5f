"""The app author's rules for hot code loading, and what happens when each one is broken."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import primes_runtime
import pytest
from primes_runtime.behaviours import server, statem
from primes_runtime.host.node import Node
from primes_runtime.release import handler
from primes_runtime.release.reports import InstallFailed

from tests.runtime.release.deployed import tree_node
from tests.runtime.release.trees import App, mark_permanent, write_release

pytestmark = pytest.mark.usefixtures("node")

LIB = """
from dataclasses import dataclass

CALLS = 0


def greet():
    return "v{vsn}"


def bump():
    global CALLS
    CALLS += 1
    return CALLS


@dataclass
class Point:
    x: int
"""

USER = """
import {lib}
from {lib} import greet
from primes_runtime.server import Reply


def init(args):
    return {{}}


def handle_call(request, caller, state):
    if request == "via_module":
        return Reply({lib}.greet(), state)
    if request == "via_name":
        return Reply(greet(), state)
    return Reply({lib}.bump(), state)
"""

SERVER_V1 = """
import {lib}
from primes_runtime.server import Reply


def init(args):
    return {{"p": {lib}.Point(1)}}


def handle_call(request, caller, state):
    return Reply(("v1", isinstance(state["p"], {lib}.Point)), state)
"""

SERVER_V2 = """
import {lib}
import {new}
from primes_runtime.server import Reply


def init(args):
    return {{"p": {lib}.Point(1)}}


def handle_call(request, caller, state):
    if request == "hello":
        return Reply({new}.hello(), state)
    return Reply(("v2", isinstance(state["p"], {lib}.Point)), state)


def code_change(old_vsn, state, extra):
    if extra == "convert":
        return {{**state, "p": {lib}.Point(state["p"].x)}}
    if extra == "forget_to_return":
        return None
    if extra == "mutate_then_fail":
        state["p"] = None
        raise ValueError("half done")
    return state
"""

NEW = """
def hello():
    return "hello from a module release 1 did not have"
"""

SCRIPT = """\
load_object_code {{"app": "demo", "from_vsn": "1", "to_vsn": "2", "path": "lib/demo-2", "modules": ["{mod}", "{lib}", "{new}"]}}
point_of_no_return
suspend {{"modules": ["{mod}"], "timeout": 5.0}}
load {{"module": "{mod}"}}
load {{"module": "{lib}"}}
load {{"module": "{new}"}}
code_change {{"modules": ["{mod}"], "mode": "up", "old_vsn": "1", "extra": "{extra}", "timeout": 5.0}}
resume {{"modules": ["{mod}"]}}
"""  # noqa: E501


def demo_node(tmp_path: Path, mod: str, extra: str = "keep") -> Node:
    names = {"mod": mod, "lib": f"{mod}_lib", "new": f"{mod}_new", "user": f"{mod}_user"}

    def src(template: str, **more: object) -> str:
        return textwrap.dedent(template).format(**names, **more)

    root = tmp_path / "node"
    v1 = {mod: src(SERVER_V1), names["lib"]: src(LIB, vsn=1), names["user"]: src(USER)}
    v2 = {
        mod: src(SERVER_V2),
        names["lib"]: src(LIB, vsn=2),
        names["user"]: src(USER),
        names["new"]: NEW,
    }
    write_release(root, "1", [App("demo", "1", v1)])
    script = SCRIPT.format(**names, extra=extra)
    write_release(root, "2", [App("demo", "2", v2)], relups={"up_from_1": script})
    mark_permanent(root, "1")
    (root / "releases" / "RELEASES").write_text(
        '{"format": 1, "releases": [{"status": "permanent", "version": "1"},'
        ' {"status": "unpacked", "version": "2"}]}\n'
    )
    sys.path.insert(0, str(root / "lib" / "demo-1"))
    return tree_node(root, "1")


def test_names_imported_from_a_changed_module_run_its_new_code(tmp_path: Path, mod: str) -> None:
    node = demo_node(tmp_path, mod)
    user = server.start(f"{mod}_user")  # not touched by the script: it is never suspended
    server.start(mod)
    assert primes_runtime.call(user, "via_name") == "v1"
    handler.install(node, "2")
    assert primes_runtime.call(user, "via_module") == "v2"  # `lib.greet()` sees the new code
    assert primes_runtime.call(user, "via_name") == "v2"  # and so does `from lib import greet`


def test_module_globals_start_afresh_so_keep_state_in_the_process(tmp_path: Path, mod: str) -> None:
    node = demo_node(tmp_path, mod)
    user = server.start(f"{mod}_user")
    server.start(mod)
    assert [primes_runtime.call(user, "bump") for _ in range(2)] == [1, 2]
    handler.install(node, "2")
    assert primes_runtime.call(user, "bump") == 1  # rule broken: the module global was reset


def test_objects_of_a_changed_class_keep_being_instances_of_it_after_the_swap(
    tmp_path: Path, mod: str
) -> None:
    node = demo_node(tmp_path, mod, extra="keep")
    pid = server.start(mod)
    assert primes_runtime.call(pid, "check") == ("v1", True)
    handler.install(node, "2")
    assert primes_runtime.call(pid, "check") == ("v2", True)  # the class was changed in place

    converted = demo_node(tmp_path / "again", f"{mod}_again", extra="convert")
    pid2 = server.start(f"{mod}_again")
    handler.install(converted, "2")
    assert primes_runtime.call(pid2, "check") == ("v2", True)


def test_a_module_only_the_new_release_has_can_be_imported_by_changed_code(
    tmp_path: Path, mod: str
) -> None:
    node = demo_node(tmp_path, mod)
    pid = server.start(mod)
    handler.install(node, "2")
    assert primes_runtime.call(pid, "hello") == "hello from a module release 1 did not have"
    assert sys.modules[mod].__dict__[f"{mod}_new"] is sys.modules[f"{mod}_new"]
    assert sys.modules[mod].__dict__[f"{mod}_lib"] is sys.modules[f"{mod}_lib"]


def test_a_code_change_that_returns_nothing_is_refused_and_rolled_back(
    tmp_path: Path, mod: str
) -> None:
    node = demo_node(tmp_path, mod, extra="forget_to_return")
    pid = server.start(mod)
    with pytest.raises(InstallFailed, match="code_change returned None; it must return the new"):
        handler.install(node, "2")
    assert primes_runtime.call(pid, "check") == ("v1", True)  # old code, old state
    assert f"{mod}_new" not in sys.modules  # the new modules were dropped


def test_a_code_change_that_mutates_its_state_then_fails_leaves_the_mutation_behind(
    tmp_path: Path, mod: str
) -> None:
    # Rule 6 broken: the rollback restores the state object the process had, not a copy
    node = demo_node(tmp_path, mod, extra="mutate_then_fail")
    pid = server.start(mod)
    with pytest.raises(InstallFailed, match="half done"):
        handler.install(node, "2")
    assert primes_runtime.call(pid, "check") == ("v1", False)  # old code, mutated state


def test_a_failing_code_change_logs_its_traceback(
    tmp_path: Path, mod: str, caplog: pytest.LogCaptureFixture
) -> None:
    node = demo_node(tmp_path, mod, extra="mutate_then_fail")
    server.start(mod)
    with pytest.raises(InstallFailed):
        handler.install(node, "2")
    failed = [r for r in caplog.records if "code_change of" in r.getMessage()]
    assert failed and failed[0].exc_info is not None
    assert "half done" in str(failed[0].exc_info[1])


STATEM_V1 = """
from primes_runtime.statem import Keep, Next, Reply


def init(args):
    return Next("idle", {"n": 1})


def handle_event(kind, content, state, data):
    if kind == "call":
        return Keep(data, [Reply(content.caller, ("v1", state, data))])
    return Keep(data)
"""

STATEM_V2 = """
from primes_runtime.statem import Keep, Next, Reply


def init(args):
    return Next("idle", {"n": 1})


def handle_event(kind, content, state, data):
    if kind == "call":
        return Keep(data, [Reply(content.caller, ("v2", state, data))])
    return Keep(data)


def code_change(old_vsn, state, data, extra):
    if extra == "bad":
        return data  # rule broken: a state machine's code_change returns Next
    return Next("busy", {**data, "from": old_vsn})
"""


def statem_node(tmp_path: Path, mod: str, extra: str) -> Node:
    script = (
        f'load_object_code {{"app": "sm", "from_vsn": "1", "to_vsn": "2", "path": "lib/sm-2",'
        f' "modules": ["{mod}"]}}\npoint_of_no_return\n'
        f'suspend {{"modules": ["{mod}"], "timeout": 5.0}}\nload {{"module": "{mod}"}}\n'
        f'code_change {{"modules": ["{mod}"], "mode": "up", "old_vsn": "1", "extra": "{extra}"}}\n'
        f'resume {{"modules": ["{mod}"]}}\n'
    )
    root = tmp_path / "node"
    write_release(root, "1", [App("sm", "1", {mod: STATEM_V1})])
    write_release(root, "2", [App("sm", "2", {mod: STATEM_V2})], relups={"up_from_1": script})
    mark_permanent(root, "1")
    (root / "releases" / "RELEASES").write_text(
        '{"format": 1, "releases": [{"status": "permanent", "version": "1"},'
        ' {"status": "unpacked", "version": "2"}]}\n'
    )
    sys.path.insert(0, str(root / "lib" / "sm-1"))
    return tree_node(root, "1")


def test_a_state_machine_code_change_returns_next_with_state_and_data(
    tmp_path: Path, mod: str
) -> None:
    node = statem_node(tmp_path, mod, "good")
    pid = statem.start(mod)
    handler.install(node, "2")
    assert primes_runtime.call(pid, "q") == ("v2", "busy", {"n": 1, "from": "1"})


def test_a_state_machine_code_change_not_returning_next_rolls_back(
    tmp_path: Path, mod: str
) -> None:
    node = statem_node(tmp_path, mod, "bad")
    pid = statem.start(mod)
    with pytest.raises(InstallFailed, match=r"relup:5 \(code_change .*BadReturn"):
        handler.install(node, "2")
    assert primes_runtime.call(pid, "q") == ("v1", "idle", {"n": 1})
