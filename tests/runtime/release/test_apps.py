"""Install with applications: code dir switch, app version and env, apps started and stopped."""

from __future__ import annotations

import sys
from pathlib import Path

import primes_runtime
import pytest
from primes_runtime import app_env
from primes_runtime.host import manifest
from primes_runtime.host.node import Node
from primes_runtime.release import handler
from primes_runtime.release.reports import InstallFailed
from rt_fixtures.kernel import apps

from tests.runtime.release.deployed import tree_node
from tests.runtime.release.servers import CODE_CHANGE_V2, counter
from tests.runtime.release.trees import App, mark_permanent, write_release

pytestmark = pytest.mark.usefixtures("node")

APP_MODULE = """
from primes_runtime import server


def start():
    return server.start("{mod}", "app", name="{mod}_server")
"""

BROKEN_START = """
def start():
    raise RuntimeError("extra cannot start")
"""


def script(mod: str, *, start: str = "", stop: str = "") -> str:
    return f"""\
load_object_code {{"app": "counter", "from_vsn": "1", "to_vsn": "2", "path": "lib/counter-2", "modules": ["{mod}"]}}
point_of_no_return
suspend {{"modules": ["{mod}"], "timeout": 5.0}}
switch_app_path {{"app": "counter", "from_vsn": "1", "to_vsn": "2", "from_path": "lib/counter-1", "to_path": "lib/counter-2"}}
load {{"module": "{mod}"}}
code_change {{"modules": ["{mod}"], "mode": "up", "old_vsn": "1", "extra": "x", "timeout": 5.0}}
resume {{"modules": ["{mod}"]}}
{start}
{stop}
"""  # noqa: E501


def app_node(tmp_path: Path, mod: str, relup: str, *, extra_start: str | None) -> Node:
    root = tmp_path / "node"
    starter = APP_MODULE.format(mod=mod)
    v1_apps = [
        App("counter", "1", {mod: counter(1), f"{mod}_app": starter},
            start=f"{mod}_app:start", env={"interval": 10.0}),
        App("old", "1", {f"{mod}_old": starter.replace("_server", "_old")},
            start=f"{mod}_old:start"),
    ]  # fmt: skip
    v2_apps = [
        App("counter", "2", {mod: counter(2, code_change=CODE_CHANGE_V2), f"{mod}_app": starter},
            start=f"{mod}_app:start", env={"interval": 0.1}),
    ]  # fmt: skip
    if extra_start is not None:
        v2_apps.append(App("extra", "1", {f"{mod}_extra": extra_start}, start=f"{mod}_extra:start"))
    write_release(root, "1", v1_apps)
    node_toml = '[node]\nname = "primenode"\nprobation = 0\n\n[env.counter]\nport = 2\n'
    write_release(root, "2", v2_apps, relups={"up_from_1": relup}, node_toml=node_toml)
    mark_permanent(root, "1")
    (root / "releases" / "RELEASES").write_text(
        '{"format": 1, "releases": [{"status": "permanent", "version": "1"},'
        ' {"status": "unpacked", "version": "2"}]}\n'
    )
    for name in ("counter-1", "old-1"):
        sys.path.insert(0, str(root / "lib" / name))
    apps().configure(root, {})
    for spec in manifest.load(root, "1").apps:
        apps().start_app(spec)
    return tree_node(root, "1")


def versions() -> dict[str, str]:
    return {info.name: info.version for info in apps().running()}


def test_install_switches_the_app_and_starts_and_stops_apps(tmp_path: Path, mod: str) -> None:
    relup = script(mod, start='start_app {"app": "extra"}', stop='stop_app {"app": "old"}')
    node = app_node(tmp_path, mod, relup, extra_start=APP_MODULE.format(mod=f"{mod}_x"))
    (tmp_path / "node" / "lib" / "extra-1" / f"{mod}_x.py").write_text(counter(1))
    pid = primes_runtime.whereis(f"{mod}_server")
    assert pid is not None
    handler.install(node, "2")
    assert versions() == {"counter": "2", "extra": "1"}
    assert app_env("counter", "interval") == 0.1
    assert app_env("counter", "port") == 2  # the new release's node.toml
    assert str(tmp_path / "node" / "lib" / "counter-2") in sys.path
    assert str(tmp_path / "node" / "lib" / "counter-1") not in sys.path
    assert primes_runtime.call(pid, "vsn") == 2


def test_an_app_failing_to_start_rolls_the_whole_install_back(tmp_path: Path, mod: str) -> None:
    relup = script(mod, start='start_app {"app": "extra"}', stop='stop_app {"app": "old"}')
    node = app_node(tmp_path, mod, relup, extra_start=BROKEN_START)
    pid = primes_runtime.whereis(f"{mod}_server")
    assert pid is not None
    with pytest.raises(InstallFailed) as info:
        handler.install(node, "2")
    failed = info.value.report.failed
    assert failed is not None and failed.line == 8
    assert "extra cannot start" in failed.reason
    assert versions() == {"counter": "1", "old": "1"}
    assert app_env("counter", "interval") == 10.0
    assert str(tmp_path / "node" / "lib" / "counter-1") in sys.path
    assert str(tmp_path / "node" / "lib" / "counter-2") not in sys.path
    assert primes_runtime.call(pid, "vsn") == 1
    assert primes_runtime.call(pid, "state") == {"seen": [], "tag": "app"}


def test_check_refuses_a_switch_from_a_version_that_is_not_running(
    tmp_path: Path, mod: str
) -> None:
    relup = script(mod).replace(
        '"from_vsn": "1", "to_vsn": "2", "from_path"', '"from_vsn": "0", "to_vsn": "2", "from_path"'
    )
    node = app_node(tmp_path, mod, relup, extra_start=None)
    with pytest.raises(handler.ReleaseError, match="line 4: app counter should run 0, it runs 1"):
        handler.check(node, "2")


def restart_script(mod: str) -> str:
    return f"""\
load_object_code {{"app": "counter", "from_vsn": "1", "to_vsn": "2", "path": "lib/counter-2", "modules": ["{mod}"]}}
point_of_no_return
stop_app {{"app": "counter"}}
switch_app_path {{"app": "counter", "from_vsn": "1", "to_vsn": "2", "from_path": "lib/counter-1", "to_path": "lib/counter-2"}}
load {{"module": "{mod}"}}
start_app {{"app": "counter"}}
"""  # noqa: E501


def test_restart_application_of_a_running_app_starts_it_on_the_new_code(
    tmp_path: Path, mod: str
) -> None:
    node = app_node(tmp_path, mod, restart_script(mod), extra_start=None)
    other = primes_runtime.whereis(f"{mod}_old")
    assert other is not None
    primes_runtime.cast(other, "kept")
    handler.install(node, "2")
    pid = primes_runtime.whereis(f"{mod}_server")
    assert pid is not None
    assert primes_runtime.call(pid, "vsn") == 2  # a new process, on the new code
    assert versions() == {"counter": "2", "old": "1"}
    assert primes_runtime.whereis(f"{mod}_old") == other  # the other app was not touched
    assert primes_runtime.call(other, "state")["seen"] == ["kept"]
