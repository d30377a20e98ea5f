"""The node: boot from a tree, sys.path, logging, SIGTERM shutdown with exit 0."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from primes_runtime import applications, node, processes
from primes_runtime.errors import ConfigError
from primes_runtime.host import logsetup
from rt_fixtures import demo_app
from rt_fixtures.waiting import wait_until

RUNTIME_SRC = Path(__file__).resolve().parents[3] / "runtime" / "primes_runtime"


def make_tree(root: Path, apps: list[dict[str, object]], node_toml: str = "") -> Path:
    releases = root / "releases"
    (releases / "1").mkdir(parents=True)
    (releases / "start_data").write_text("1 lib/primes_runtime-1\n")
    (releases / "1" / "node.toml").write_text(
        '[node]\nname = "testnode"\nshutdown_timeout = 5.0\n' + node_toml
    )
    manifest = {
        "format": 1,
        "name": "primenode",
        "version": "1",
        "requires_python": ">=3.11",
        "runtime": {"name": "primes_runtime", "version": "1", "path": "lib/primes_runtime-1"},
        "apps": apps,
        "upgrades": {"up_from": [], "down_to": []},
    }
    (releases / "1" / "release.json").write_text(json.dumps(manifest))
    return root


def app_entry(name: str, start: str, stop: str | None = None, **env: object) -> dict[str, object]:
    return {
        "name": name,
        "version": "1",
        "path": f"lib/{name}-1",
        "start": start,
        "stop": stop,
        "needs": [],
        "env": env,
        "modules": {},
    }


def test_boot_starts_the_apps_and_shutdown_stops_them(tmp_path: Path) -> None:
    demo_app.events.clear()
    entry = app_entry("demo", "rt_fixtures.demo_app:start", "rt_fixtures.demo_app:stop")
    root = make_tree(tmp_path, [entry], "[env.demo]\ngreeting = 'hi'\n")
    booted = node.boot(root, set_path=False)
    try:
        assert node.current() is booted and node.default_node() is booted
        assert (booted.release, booted.config.name) == ("1", "testnode")
        assert [(a.name, a.version, a.status) for a in applications()] == [("demo", "1", "running")]
        assert any(p.app == "demo" and p.behaviour == "server" for p in processes())
        calls: list[str] = []
        booted.on_shutdown(lambda: calls.append("callback"))
    finally:
        booted.shutdown(5.0)
        logsetup.teardown(booted._log_handler)  # type: ignore[arg-type]
    booted.wait()
    assert node.current() is None and node.default_node() is None
    assert booted.applications.running() == []
    assert demo_app.events[-1] == ("stop", None)
    assert calls == ["callback"]
    log_text = (root / "log" / "node.log").read_text()
    assert "release 1 running" in log_text and "application demo stopped" in log_text


def test_boot_without_start_data_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"start_data.*pass --release VSN"):
        node.boot(tmp_path, set_path=False)


def test_stdlib_paths_hold_no_site_packages() -> None:
    paths = node.stdlib_paths()
    assert paths and not any("site-packages" in p for p in paths)
    assert any(Path(p, "json").is_dir() for p in paths)


APP_SOURCE = '''
"""A deployed app for the node subprocess test."""
import json, os, sys
from primes_runtime import app_env, start_server
from primes_runtime.node import current
from primes_runtime.server import Reply
from primes_runtime.supervisor import ChildSpec, SupSpec, start as start_sup

def start():
    return start_sup("nodeapp", SupSpec(children=[ChildSpec("w", ("nodeapp", "worker", ()))]))

def worker():
    return start_server("nodeapp", name="nodeapp_worker")

def init(args):
    if isinstance(args, SupSpec):
        return args
    root = current().root
    seen = {"path": sys.path, "env": app_env("nodeapp", "x")}
    (root / "booted.tmp").write_text(json.dumps(seen))
    os.replace(root / "booted.tmp", root / "booted.json")  # readers never see it half-written
    return {}

def terminate(reason, state):
    (current().root / "terminated").write_text(repr(reason))

def stop():
    (current().root / "stopped").write_text("yes")
'''


def test_the_node_runs_with_only_its_code_on_sys_path_and_exits_0_on_sigterm(
    tmp_path: Path,
) -> None:
    root = make_tree(
        tmp_path,
        [app_entry("nodeapp", "nodeapp:start", "nodeapp:stop", x=1)],
        "[env.nodeapp]\nx = 2\n",
    )
    runtime_dir = root / "lib" / "primes_runtime-1"
    shutil.copytree(
        RUNTIME_SRC,
        runtime_dir / "primes_runtime",
        ignore=shutil.ignore_patterns("__pycache__", "control", "service"),
    )
    app_dir = root / "lib" / "nodeapp-1"
    app_dir.mkdir(parents=True)
    (app_dir / "nodeapp.py").write_text(APP_SOURCE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(runtime_dir)
    proc = subprocess.Popen(
        [sys.executable, "-S", "-m", "primes_runtime.node", "--root", str(root)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: (root / "booted.json").exists() or proc.poll() is not None,
            timeout=20,
            what="the node to boot",
        )
        assert proc.poll() is None, proc.communicate()
        booted = json.loads((root / "booted.json").read_text())
        assert booted["env"] == 2
        path = booted["path"]
        assert path[:2] == [str(runtime_dir), str(app_dir)]
        assert not any("site-packages" in p for p in path)
        assert str(RUNTIME_SRC.parent) not in path
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert (root / "terminated").read_text() == "'shutdown'"
    assert (root / "stopped").read_text() == "yes"
    assert "stopped" in (root / "log" / "node.log").read_text()


@pytest.mark.usefixtures("node")
def test_a_crash_inside_the_node_is_logged_and_the_node_lives(tmp_path: Path) -> None:
    handler = logsetup.setup(tmp_path, 1_000_000, 1)
    try:
        from primes_runtime import cast, start_server

        pid = start_server("rt_fixtures.counter")
        cast(pid, "crash")
        wait_until(
            lambda: "cast crash" in (tmp_path / "log" / "node.log").read_text(),
            what="the crash in node.log",
        )
        text = (tmp_path / "log" / "node.log").read_text()
        assert "Traceback" in text and "crashed" in text
        assert start_server("rt_fixtures.counter") is not None  # the runtime goes on
    finally:
        logsetup.teardown(handler)


def test_node_log_rotates_by_size(tmp_path: Path) -> None:
    handler = logsetup.setup(tmp_path, 2_000, 2)
    try:
        for i in range(200):
            logging.getLogger("rotation-test").warning("line %d %s", i, "x" * 50)
    finally:
        logsetup.teardown(handler)
    names = sorted(p.name for p in (tmp_path / "log").iterdir())
    assert names == ["node.log", "node.log.1", "node.log.2"]
