"""`ping`'s lean path: what it loads, what it answers, and when it leaves the command to the CLI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import primes_runtime
import pytest
from primes_runtime.cli import fast

from .conftest import Script

RUNTIME = Path(primes_runtime.__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def no_cookie_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRIMES_COOKIE", raising=False)


def argv(script: Script, command: str = "ping") -> list[str]:
    return ["--root", str(script.root), "--name", "primenode", command]


def test_the_lean_path_loads_neither_the_toml_parser_nor_dataclasses() -> None:
    code = (
        f"import sys; sys.path.insert(0, {str(RUNTIME)!r}); import primes_runtime.cli.fast; "
        "print(sorted(m for m in ('tomllib', 'dataclasses', 'argparse', 'pathlib') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-s", "-E", "-c", code], capture_output=True, text=True, check=True
    )
    assert ast.literal_eval(out.stdout) == []


def test_ping_and_pid_are_answered_on_the_lean_path(
    served: Script, capfd: pytest.CaptureFixture[str]
) -> None:
    assert fast.run(argv(served)) == 0
    assert capfd.readouterr().out == "pong\n"
    assert fast.run(argv(served, "pid")) == 0
    assert int(capfd.readouterr().out) > 0


def test_a_node_toml_that_may_set_a_cookie_leaves_ping_to_the_full_cli(served: Script) -> None:
    config = served.root / "releases" / "1" / "node.toml"
    config.write_text('node = { name = "testnode", cookie = "other" }\n', encoding="utf-8")
    assert fast.run(argv(served)) is None


def test_a_start_data_the_format_layer_refuses_leaves_ping_to_the_full_cli(
    served: Script,
) -> None:
    (served.root / "releases" / "start_data").write_text("1 lib/x/y\n", encoding="utf-8")
    assert fast.run(argv(served)) is None


def test_any_other_command_line_is_left_to_the_full_cli(served: Script) -> None:
    assert fast.run(argv(served, "status")) is None
    assert fast.run(["--root", str(served.root), "ping"]) is None
