"""docs/your-own-service.md as written: its marked blocks, in one shell, from a fresh clone.

The repository is cloned (`git clone --depth 1`, its committed HEAD) into `primes/` of a work
directory; HOME is a temporary directory whose `~/wheels` holds the third-party wheels (the
tools' and idna's, from the cache of tests/e2e/world.py), pip runs with PIP_NO_INDEX and uv
with `no-index` in its user config: nothing is fetched from the network. A block marked
`<!-- walkthrough -->` runs as it is written; one marked `<!-- walkthrough: PATH -->` is
written to PATH (a here-document in the script). `pytest -s` prints each block's time.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.world import REPO, cached, tools_wheelhouse

pytestmark = pytest.mark.e2e

DOC = Path("docs/your-own-service.md")
BLOCK = re.compile(
    r"^<!-- walkthrough(?::\s*(?P<path>\S+))? -->\n```[\w-]*\n(?P<body>.*?)^```$", re.M | re.S
)
STAMP = "@@walkthrough block"
SCRIPT_TIMEOUT = 600.0


@dataclass(frozen=True)
class Block:
    """One marked block: shell commands, or a file's content when `path` is set."""

    body: str
    path: str | None

    def script(self) -> str:
        """The block as shell: itself, or a here-document writing the file."""
        if self.path is None:
            return self.body
        assert "\nEOF_WALKTHROUGH\n" not in self.body
        return f"cat > {self.path} <<'EOF_WALKTHROUGH'\n{self.body}EOF_WALKTHROUGH\n"

    def title(self) -> str:
        """What the block does, in one short line (for the times printed)."""
        if self.path is not None:
            return f"write {self.path}"
        return next(line for line in self.body.splitlines() if line.strip())[:60]


def blocks(doc: str) -> list[Block]:
    """The doc's marked blocks, in order."""
    return [Block(m["body"], m["path"]) for m in BLOCK.finditer(doc)]


def script(found: list[Block]) -> str:
    """One bash script: every block, each preceded by a line stamping the time it starts."""
    parts = ["set -euo pipefail\n"]
    for index, block in enumerate(found):
        parts.append(f'echo "{STAMP} {index} $EPOCHREALTIME"\n{block.script()}')
    parts.append(f'echo "{STAMP} {len(found)} $EPOCHREALTIME"\n')
    return "".join(parts)


def offline_home(home: Path) -> Path:
    """HOME with `~/wheels` holding the third-party wheels, and uv told to use only them."""
    wheels = home / "wheels"
    wheels.mkdir(parents=True)
    idna = cached("idna-3.7-3.10", [["idna==3.7"], ["idna==3.10"]], home)
    for folder in (tools_wheelhouse(home), idna):
        for wheel in folder.glob("*.whl"):
            shutil.copy(wheel, wheels)
    uv = home / ".config" / "uv"
    uv.mkdir(parents=True)
    (uv / "uv.toml").write_text(f'no-index = true\nfind-links = ["{wheels}"]\n', encoding="utf-8")
    return wheels


def user_env(home: Path) -> dict[str, str]:
    """A user's shell: this Python's bin first on PATH (python, with `build`), no index."""
    dropped = ("PIP_", "PYTHON", "VIRTUAL_ENV", "UV_", "XDG_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    env.update({"HOME": str(home), "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    return env


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """The user's HOME; the node the walkthrough starts there is stopped at the end."""
    home = tmp_path / "home"
    yield home
    kvnode = home / "srv" / "kvnode" / "bin" / "kvnode"
    if kvnode.exists():
        subprocess.run([kvnode, "stop"], capture_output=True, check=False, timeout=60)


def test_the_doc_walks_a_fresh_clone_to_a_node_whose_library_was_upgraded_in_place(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheels = offline_home(home)
    work = tmp_path / "work"
    work.mkdir()
    clone = ["git", "clone", "-q", "--depth", "1", f"file://{REPO}", str(work / "primes")]
    subprocess.run(clone, check=True, capture_output=True, timeout=120)
    found = blocks((work / "primes" / DOC).read_text(encoding="utf-8"))
    assert [b.path for b in found if b.path] == [
        "apps/kvnode_app/kvnode_app/store.py",
        "apps/kvnode_app/kvnode_app/names.py",
    ]
    (tmp_path / "walkthrough.sh").write_text(script(found), encoding="utf-8")

    started = time.monotonic()
    done = subprocess.run(
        ["bash", "-x", str(tmp_path / "walkthrough.sh")],
        cwd=work, env=user_env(home), capture_output=True, text=True, timeout=SCRIPT_TIMEOUT,
        check=False,
    )  # fmt: skip
    took = time.monotonic() - started
    out = done.stdout
    assert done.returncode == 0, f"{out[-4000:]}\n{done.stderr[-6000:]}"

    lines = out.splitlines()
    assert "3 passed" in out  # the app's own tests
    assert "pong" in lines
    assert lines.count("blue") == 3  # before version 2, after it, after the idna bump
    assert "0" in lines  # version 2's write count, made by code_change
    assert "xn--bcher-kva.example" in lines
    assert "every loaded module, function and class runs release 4's code" in lines
    node_lib = home / "srv" / "kvnode" / "lib"
    assert f"('3.10', '{node_lib}/idna-3.10/idna/core.py')" in lines

    project = work / "kvnode"
    dist = project / "dist"
    built = sorted(wheels.glob("primes_*"))
    assert len(built) == 4, built  # primes-build's and primes-runtime's sdists and wheels
    # What the backend wrote passes the ecosystem's checkers, and so do primes' own.
    dists = [dist / "kvnode-4.tar.gz", dist / "kvnode-4-py3-none-any.whl", *built]
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, dists)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    pyprojects = [project / "pyproject.toml", project / "apps/kvnode_app/pyproject.toml"]
    pyprojects += [REPO / "build_backend/pyproject.toml", REPO / "runtime/pyproject.toml"]
    validated = subprocess.run(
        [sys.executable, "-m", "validate_pyproject", *map(str, pyprojects)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert validated.returncode == 0, validated.stdout + validated.stderr

    stamps = [float(line.split()[-1]) for line in lines if line.startswith(STAMP)]
    with capsys.disabled():
        print(f"\nwalkthrough of {DOC}: {took:.1f} s")
        for block, begin, end in zip(found, stamps, stamps[1:], strict=False):
            print(f"  {end - begin:6.1f} s  {block.title()}")
