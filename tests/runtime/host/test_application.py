"""The application controller: dependency order, reverse stop, env, failures, versions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from primes_runtime import (
    StartError,
    app_env,
    applications,
    call,
    processes,
)
from primes_runtime.behaviours.supervisor import which_children
from primes_runtime.errors import ApplicationError
from primes_runtime.host.manifest import AppSpec
from rt_fixtures import demo_app
from rt_fixtures.kernel import apps, table
from rt_fixtures.waiting import wait_until

pytestmark = pytest.mark.usefixtures("node")


def spec(name: str, needs: tuple[str, ...] = (), **env: object) -> AppSpec:
    return AppSpec(
        name=name,
        version="1",
        path=f"lib/{name}-1",
        start="rt_fixtures.demo_app:start",
        stop="rt_fixtures.demo_app:stop",
        needs=needs,
        env=env,
    )


@pytest.fixture(autouse=True)
def _controller(tmp_path: Path, node: object) -> Iterator[None]:
    demo_app.events.clear()
    apps().configure(tmp_path, {"app_b": {"greeting": "from node.toml"}})
    yield
    apps().configure(Path("."), {})


def _worker(app: str) -> object:
    top = next(a for a in apps().running() if a.name == app)
    assert top.status == "running"
    sup = apps()._apps[app].top
    assert sup is not None
    return which_children(sup)[0].pid


def test_apps_start_in_dependency_order_and_stop_in_reverse() -> None:
    apps().start_all([spec("app_b", needs=("app_a",)), spec("app_a")])
    assert [e for e in demo_app.events] == [("start", "app_a"), ("start", "app_b")]
    assert [a.name for a in applications()] == ["app_a", "app_b"]
    demo_app.events.clear()
    apps().stop_all(5.0)
    assert demo_app.events == [("stop", None), ("stop", None)]
    assert applications() == []


def test_an_app_whose_needs_are_not_running_does_not_start() -> None:
    with pytest.raises(StartError, match="needs app_a, not running"):
        apps().start_app(spec("app_b", needs=("app_a",)))


def test_a_dependency_cycle_is_a_start_error() -> None:
    with pytest.raises(StartError, match="dependency cycle"):
        apps().start_all([spec("app_a", needs=("app_b",)), spec("app_b", needs=("app_a",))])


def test_processes_started_by_an_app_belong_to_it() -> None:
    apps().start_app(spec("app_a"))
    worker = _worker("app_a")
    assert call(worker, "app") == "app_a"  # type: ignore[arg-type]
    mine = [p for p in processes() if p.app == "app_a"]
    assert {p.behaviour for p in mine} == {"supervisor", "server"}
    assert all(p.app_vsn == "1" for p in mine)


def test_env_defaults_are_overridden_by_the_node_config() -> None:
    apps().start_app(spec("app_a", greeting="default", port=1))
    apps().start_app(spec("app_b", greeting="default"))
    assert app_env("app_a", "greeting") == "default"
    assert app_env("app_b", "greeting") == "from node.toml"
    assert call(_worker("app_b"), ("env", "greeting")) == "from node.toml"  # type: ignore[arg-type]
    assert app_env("app_a", "missing", 42) == 42
    with pytest.raises(ApplicationError, match="no env key 'missing'"):
        app_env("app_a", "missing")


def test_a_failing_start_is_a_start_error_and_the_app_is_not_running() -> None:
    with pytest.raises(StartError, match="app_a failed to start"):
        apps().start_app(spec("app_a", fail_start=True))
    assert applications() == []


def test_set_app_version_changes_what_the_app_reports() -> None:
    apps().start_app(spec("app_a", greeting="v1"))
    apps().set_app_version("app_a", "2", Path("/x/lib/app_a-2"), {"greeting": "v2"})
    info = applications()[0]
    assert (info.version, info.path) == ("2", "/x/lib/app_a-2")
    assert app_env("app_a", "greeting") == "v2"
    assert {p.app_vsn for p in processes() if p.app == "app_a"} == {"2"}


def test_stopping_an_app_stops_all_its_processes() -> None:
    apps().start_app(spec("app_a"))
    mine = [p.pid for p in processes() if p.app == "app_a"]
    apps().stop_app("app_a")
    assert all(table().lookup(pid) is None for pid in mine)
    with pytest.raises(ApplicationError, match="not running"):
        apps().stop_app("app_a")


def test_an_app_whose_top_supervisor_dies_is_marked_failed() -> None:
    apps().start_app(spec("app_a"))
    top = apps()._apps["app_a"].top
    assert top is not None

    table().kill(top, "boom")
    wait_until(lambda: applications()[0].status == "failed", what="status failed")
