"""A deployed release tree assembled by hand (docs/formats.md) and bin/primenode run for real."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pytest
from primes_runtime.service import server

from .fakenode import FakeNode

REPO = Path(__file__).resolve().parents[3]
RUNTIME_SRC = REPO / "runtime" / "primes_runtime"
TEMPLATE = (
    REPO / "build_backend" / "primes_build" / "project" / "defaults" / "templates" / "start.sh.j2"
)

DEMO_APP = {
    "demo_app/__init__.py": '"""A tiny app for the control channel tests."""\n',
    "demo_app/app.py": '''"""Starts the demo app: one supervisor with one counter server."""

from primes_runtime import supervisor


def start():
    return supervisor.start("demo_app.sup", None, name="demo_sup")
''',
    "demo_app/sup.py": '''"""The demo app's top supervisor."""

from primes_runtime.supervisor import ChildSpec, SupSpec


def init(args):
    return SupSpec(
        strategy="one_for_one",
        children=[ChildSpec(id="counter", start=("demo_app.counter", "start_link", ()))],
    )
''',
    "demo_app/counter.py": '''"""A registered server holding a number."""

import primes_runtime
from primes_runtime.server import Reply


def start_link():
    return primes_runtime.start_server("demo_app.counter", 0, name="counter")


def init(args):
    return args


def handle_call(request, caller, state):
    if request == "incr":
        return Reply(state + 1, state + 1)
    return Reply(state, state)


def handle_cast(msg, state):
    return state


def handle_info(msg, state):
    return state
''',
    "demo_api.py": '''"""Functions the tests call with rpc."""

import primes_runtime

answer = 42


def add(a, b):
    return a + b


def greet(name):
    return "hello " + name


def incr():
    return primes_runtime.call("counter", "incr")


def boom():
    raise RuntimeError("kaboom")
''',
}


COUNTER_V2 = (
    DEMO_APP["demo_app/counter.py"]
    + '''

def code_change(old_vsn, state, extra):
    """Version 2 counts in hundreds: up multiplies, down divides."""
    return state * 100 if extra == "up" else state // 100
'''
)

API_V2 = (
    DEMO_APP["demo_api.py"]
    + """

def version():
    return "two"
"""
)

UP_FROM_1 = """\
# demo 1 -> 2
load_object_code {"app": "demo_app", "from_vsn": "1", "to_vsn": "2", "path": "lib/demo_app-2", \
"modules": ["demo_app.counter", "demo_api"]}
point_of_no_return
suspend {"modules": ["demo_app.counter"], "timeout": 5.0}
switch_app_path {"app": "demo_app", "from_vsn": "1", "to_vsn": "2", "from_path": "lib/demo_app-1", \
"to_path": "lib/demo_app-2"}
load {"module": "demo_app.counter"}
code_change {"modules": ["demo_app.counter"], "mode": "up", "old_vsn": "1", "extra": "up", \
"timeout": 5.0}
resume {"modules": ["demo_app.counter"]}
load {"module": "demo_api"}
"""

DOWN_TO_1 = """\
# demo 2 -> 1
load_object_code {"app": "demo_app", "from_vsn": "2", "to_vsn": "1", "path": "lib/demo_app-1", \
"modules": ["demo_app.counter", "demo_api"]}
point_of_no_return
suspend {"modules": ["demo_app.counter"], "timeout": 5.0}
code_change {"modules": ["demo_app.counter"], "mode": "down", "old_vsn": ["down", "1"], \
"extra": "down", "timeout": 5.0}
switch_app_path {"app": "demo_app", "from_vsn": "2", "to_vsn": "1", "from_path": "lib/demo_app-2", \
"to_path": "lib/demo_app-1"}
load {"module": "demo_app.counter"}
resume {"modules": ["demo_app.counter"]}
load {"module": "demo_api"}
"""


def manifest(version: str, app_version: str, upgrades: dict[str, list[str]]) -> str:
    """release.json of a demo release (docs/formats.md)."""
    data = {
        "format": 1,
        "name": "primenode",
        "version": version,
        "requires_python": ">=3.11",
        "runtime": {
            "name": "primes_runtime",
            "version": "1",
            "path": "lib/primes_runtime-1",
            "modules": {},
        },
        "apps": [
            {
                "name": "demo_app",
                "version": app_version,
                "path": f"lib/demo_app-{app_version}",
                "description": "control channel test app",
                "start": "demo_app.app:start",
                "stop": None,
                "needs": [],
                "env": {},
                "modules": {},
            }
        ],
        "upgrades": upgrades,
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def make_package(
    directory: Path,
    counter_v2: str = COUNTER_V2,
    *,
    app_v2: dict[str, str] | None = None,
    scripts: tuple[str, str] = (UP_FROM_1, DOWN_TO_1),
    node_extra: str = "probation = 0\n",
) -> Path:
    """primenode_2.tar.gz: demo_app 2 (counter state x100 on the way up), scripts to and from 1.

    `app_v2` replaces demo_app 2's files, `scripts` the up and down script (an empty down
    script is left out), `node_extra` adds lines to [node] of its node.toml (by default: no
    probation, so the tests of other features do not wait out a window)."""
    files = {
        "releases/2/release.json": manifest("2", "2", {"up_from": ["1"], "down_to": ["1"]}),
        "releases/2/node.toml": f'[node]\nname = "testnode"\nshutdown_timeout = 5.0\n{node_extra}',
        "releases/2/up_from_1.relup": scripts[0],
    }
    if scripts[1]:
        files["releases/2/down_to_1.relup"] = scripts[1]
    app = app_v2 or {**DEMO_APP, "demo_app/counter.py": counter_v2, "demo_api.py": API_V2}
    files.update({f"lib/demo_app-2/{rel}": text for rel, text in app.items()})
    sums = "".join(
        f"{hashlib.sha256(text.encode()).hexdigest()}  {path}\n"
        for path, text in sorted(files.items())
    )
    files["releases/2/SHA256SUMS"] = sums
    package = directory / "primenode_2.tar.gz"
    write_tar(package, {path: text.encode() for path, text in files.items()})
    return package


def write_tar(package: Path, files: dict[str, bytes]) -> None:
    """A .tar.gz of `files` (tree path -> content), sorted, each 0644."""
    with tarfile.open(package, "w:gz") as tar:
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))


def repack(package: Path, edit: Callable[[dict[str, bytes]], None]) -> Path:
    """Rewrite `package` in place: `edit` changes its files (tree path -> content), then every
    SHA256SUMS is recomputed, as anyone who holds the file (but no signing key) can."""
    with tarfile.open(package, "r:gz") as tar:
        files = {m.name: (tar.extractfile(m) or io.BytesIO()).read() for m in tar if m.isfile()}
    edit(files)
    for sums in [p for p in files if p.startswith("releases/") and p.endswith("/SHA256SUMS")]:
        del files[sums]
        files[sums] = "".join(
            f"{hashlib.sha256(body).hexdigest()}  {path}\n" for path, body in sorted(files.items())
        ).encode()
    write_tar(package, files)
    return package


def render_script(path: Path, name: str = "primenode", version: str = "1") -> None:
    """Render the start script template into `path` (0755), as the build does."""
    template = jinja2.Template(TEMPLATE.read_text(encoding="utf-8"), keep_trailing_newline=True)
    text = template.render(
        release_name=name,
        release_version=version,
        requires_python=">=3.11",
        python_min="3.11",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)


def build_tree(root: Path, cookie: str | None = None, app: dict[str, str] | None = None) -> Path:
    """A deployed tree of release 1 with the runtime and the demo app (or `app`'s files)."""
    shutil.copytree(
        RUNTIME_SRC,
        root / "lib" / "primes_runtime-1" / "primes_runtime",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    app_dir = root / "lib" / "demo_app-1"
    for rel, text in (app or DEMO_APP).items():
        target = app_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    rel_dir = root / "releases" / "1"
    rel_dir.mkdir(parents=True)
    (rel_dir / "release.json").write_text(
        manifest("1", "1", {"up_from": [], "down_to": []}), encoding="utf-8"
    )
    cookie_line = f'cookie = "{cookie}"\n' if cookie else ""
    (rel_dir / "node.toml").write_text(
        f'[node]\nname = "testnode"\n{cookie_line}shutdown_timeout = 5.0\n', encoding="utf-8"
    )
    releases = {"format": 1, "releases": [{"version": "1", "status": "permanent"}]}
    (root / "releases" / "RELEASES").write_text(json.dumps(releases) + "\n", encoding="utf-8")
    (root / "releases" / "start_data").write_text("1 lib/primes_runtime-1\n", encoding="utf-8")
    render_script(root / "bin" / "primenode")
    return root


@dataclass(frozen=True)
class Script:
    """bin/primenode of one tree, run as a user would."""

    root: Path

    @property
    def path(self) -> Path:
        return self.root / "bin" / "primenode"

    def run(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        stdin: str | None = None,
        timeout: float = 120.0,
        script: Path | None = None,
        merged: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """Run the script; `merged`: stderr goes into stdout, in the order it was written."""
        full_env = {k: v for k, v in os.environ.items() if k != "PRIMES_COOKIE"}
        full_env.setdefault("PRIMES_PYTHON", sys.executable)
        full_env.update(env or {})
        return subprocess.run(
            [str(script or self.path), *args],
            cwd=cwd or self.root.parent,
            env=full_env,
            input=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merged else subprocess.PIPE,
            text=True,
            timeout=timeout,
        )

    def ok(self, *args: str, **kw: object) -> str:
        """Run a command that must succeed; its stdout."""
        result = self.run(*args, **kw)  # type: ignore[arg-type]
        assert result.returncode == 0, (args, result.returncode, result.stdout, result.stderr)
        return result.stdout


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A deployed tree nobody has started."""
    return build_tree(tmp_path / "srv" / "primenode")


@pytest.fixture
def script(tree: Path) -> Script:
    return Script(tree)


@pytest.fixture
def running(script: Script) -> Iterator[Script]:
    """The tree's node started with `bin/primenode start`, stopped afterwards."""
    script.ok("start")
    try:
        yield script
    finally:
        script.run("stop")


@pytest.fixture
def served(script: Script) -> Iterator[Script]:
    """The tree's control channel served by a fake node (no node process)."""
    fake = FakeNode(script.root)
    server.start(fake)
    try:
        yield script
    finally:
        fake.shutdown(1.0)
