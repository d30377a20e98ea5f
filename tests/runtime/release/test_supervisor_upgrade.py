"""Install of a release whose supervisor adds or drops children: started, stopped, undone."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from primes_runtime.behaviours import supervisor
from primes_runtime.host.node import Node
from primes_runtime.kernel.pid import Pid
from primes_runtime.release import handler
from primes_runtime.release.reports import InstallFailed
from rt_fixtures.kernel import table

from tests.runtime.release.deployed import tree_node
from tests.runtime.release.servers import up_script
from tests.runtime.release.trees import App, mark_permanent, write_release

pytestmark = pytest.mark.usefixtures("node")

SUP = """
from primes_runtime.supervisor import ChildSpec, SupSpec

WORKER = __name__ + "_w"
CHILDREN = {children!r}  # (id, start function of WORKER)


def init(args):
    return SupSpec(children=[ChildSpec(i, (WORKER, fn, (i,))) for i, fn in CHILDREN])
{code_change}
"""

CODE_CHANGE = """

def code_change(old_vsn, args, extra):
    return args
"""

WORKER = """
from primes_runtime import start_server
from primes_runtime.server import Reply

events = []


def start(tag):
    return start_server(__name__, tag)


def start_failing(tag):
    raise RuntimeError(f"{tag} cannot start in this release")


def init(tag):
    events.append(("start", tag))
    return tag


def handle_call(request, caller, state):
    return Reply(state, state)


def handle_cast(msg, state):
    return state


def terminate(reason, state):
    events.append(("stop", state))
"""

DOWN = """\
    load_object_code {{"app": "counter", "from_vsn": "2", "to_vsn": "1", "path": "lib/counter-1", "modules": ["{mod}"]}}
    point_of_no_return
    suspend {{"modules": ["{mod}"], "timeout": 5.0}}
    code_change {{"modules": ["{mod}"], "mode": "down", "old_vsn": ["down", "1"], "extra": null, "timeout": 5.0}}
    load {{"module": "{mod}"}}
    resume {{"modules": ["{mod}"]}}
    """  # noqa: E501

RESUME_LINE = 7  # of up_script: the line where the supervisor resumes and its children change


def sup_source(children: list[str], *, code_change: bool = False) -> str:
    """A supervisor module; a child named "bad..." fails to start."""
    pairs = [(c, "start_failing" if c.startswith("bad") else "start") for c in children]
    return SUP.format(children=pairs, code_change=CODE_CHANGE if code_change else "")


def deploy(
    tmp_path: Path, mod: str, v1: list[str], v2: str, *, tail: str = "", down: bool = False
) -> tuple[Node, Pid]:
    """Release 1 running its supervisor `mod` with children `v1`; release 2 (supervisor
    source `v2`) unpacked with an up script (and a down script if `down`)."""
    root = tmp_path / "node"
    worker = f"{mod}_w"
    write_release(root, "1", [App("counter", "1", {mod: sup_source(v1), worker: WORKER})])
    relups = {"up_from_1": up_script(mod, tail=tail)}
    if down:
        relups["down_to_1"] = DOWN.format(mod=mod)
    write_release(root, "2", [App("counter", "2", {mod: v2, worker: WORKER})], relups=relups)
    mark_permanent(root, "1")
    (root / "releases" / "RELEASES").write_text(
        '{"format": 1, "releases": [{"status": "permanent", "version": "1"},'
        ' {"status": "unpacked", "version": "2"}]}\n'
    )
    sys.path.insert(0, str(root / "lib" / "counter-1"))
    sup = supervisor.start(mod)
    events(mod).clear()
    return tree_node(root, "1"), sup


def events(mod: str) -> list[Any]:
    found: list[Any] = sys.modules[f"{mod}_w"].events
    return found


def children(sup: Pid) -> dict[str, Pid | None]:
    return {c.id: c.pid for c in supervisor.which_children(sup)}


def test_install_starts_the_child_the_new_supervisor_spec_adds(tmp_path: Path, mod: str) -> None:
    node, sup = deploy(tmp_path, mod, ["a"], sup_source(["a", "b"], code_change=True))
    before = children(sup)
    report = handler.install(node, "2")
    assert report.ok and node.release == "2"
    assert events(mod) == [("start", "b")]
    now = children(sup)
    assert list(now) == ["a", "b"] and now["a"] == before["a"]
    assert table().lookup(now["b"]) is not None  # type: ignore[arg-type]
    assert [p.pid for p in report.pauses] == [str(sup)]


def test_install_stops_the_children_the_new_supervisor_spec_drops(tmp_path: Path, mod: str) -> None:
    node, sup = deploy(tmp_path, mod, ["a", "b", "c"], sup_source(["a"]))  # no code_change
    before = children(sup)
    handler.install(node, "2")
    assert events(mod) == [("stop", "c"), ("stop", "b")]
    assert children(sup) == {"a": before["a"]}


def test_a_new_child_failing_to_start_fails_the_install_and_rolls_back(
    tmp_path: Path, mod: str
) -> None:
    node, sup = deploy(tmp_path, mod, ["a"], sup_source(["a", "b", "bad"], code_change=True))
    before = children(sup)
    old_module = sys.modules[mod]
    with pytest.raises(InstallFailed, match="rolled back, release 1 is still current") as info:
        handler.install(node, "2")
    failed = info.value.report.failed
    assert failed is not None and failed.line == RESUME_LINE
    assert "child 'bad' failed to start" in failed.reason
    assert "bad cannot start in this release" in failed.reason
    assert events(mod) == [("start", "b"), ("stop", "b")]  # the new child started is stopped
    assert children(sup) == before
    assert node.release == "1" and sys.modules[mod] is old_module
    proc = table().lookup(sup)
    assert proc is not None and proc.status == "running"
    assert [c.id for c in proc.spec.children] == ["a"]  # type: ignore[attr-defined]


def test_a_later_failure_puts_the_old_children_back(tmp_path: Path, mod: str) -> None:
    tail = f'apply {{"module": "{mod}", "function": "no_such_function", "args": []}}'
    node, sup = deploy(tmp_path, mod, ["a", "b"], sup_source(["a", "c"]), tail=tail)
    before = children(sup)
    with pytest.raises(InstallFailed) as info:
        handler.install(node, "2")
    failed = info.value.report.failed
    assert failed is not None and failed.line == RESUME_LINE + 1
    assert info.value.report.rollback_problems == ()
    assert events(mod) == [("start", "c"), ("stop", "b"), ("start", "b"), ("stop", "c")]
    now = children(sup)
    assert list(now) == ["a", "b"] and now["a"] == before["a"]


def test_a_downgrade_stops_the_child_the_upgrade_added(tmp_path: Path, mod: str) -> None:
    v2 = sup_source(["a", "b"], code_change=True)
    node, sup = deploy(tmp_path, mod, ["a"], v2, down=True)
    handler.install(node, "2")
    assert list(children(sup)) == ["a", "b"]
    events(mod).clear()
    handler.install(node, "1")  # releases/2/down_to_1.relup: code_change runs in the newer code
    assert node.release == "1"
    assert events(mod) == [("stop", "b")]
    assert list(children(sup)) == ["a"]
