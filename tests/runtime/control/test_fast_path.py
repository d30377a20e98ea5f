"""The lean path (cli/fast.py): what it loads, what it answers, and when it leaves the command to
the full CLI."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import primes_runtime
import pytest
from primes_runtime.cli import app, fast

from .conftest import Script, build_tree

RUNTIME = Path(primes_runtime.__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def no_cookie_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRIMES_COOKIE", raising=False)


@pytest.fixture
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A deployed tree nobody has started, at a short path (under pytest's own temporary dir,
    a test name with its parameters would make the socket's path too long)."""
    return build_tree(tmp_path_factory.mktemp("lean") / "primenode")


@pytest.fixture(autouse=True)
def umask_kept() -> Iterator[None]:
    """The full CLI makes its process's umask private (cli/app.py's main); run here, in the
    test process, it must not leave later tests creating directories other users cannot
    enter."""
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)


def argv(script: Script, command: str = "ping", *words: str) -> list[str]:
    return ["--root", str(script.root), "--name", "primenode", command, *words]


PLAIN = [
    ("ping",),
    ("pid",),
    ("versions",),
    ("versions", "--json"),
    ("check-code",),
    ("check-code", "--json"),
    ("eval", "print('said')", ";", "6", "*", "7"),
    ("eval", "import", "os"),
    ("eval", "raise", "ValueError('no')"),
    ("rpc", "os", "getcwd"),
    ("rpc", "operator", "add", "2", "[3]"),
    ("rpc", "no_such_module", "f"),
]
"""Command lines the lean path answers: successes, and failures the node reports."""

LEFT = [
    ("status",),
    ("ping", "extra"),
    ("versions", "--json", "--json"),
    ("check-code", "--cookie", "x"),
    ("eval",),
    ("eval", "-1"),
    ("rpc", "os"),
    ("rpc", "os", "getpid", "--json"),
    ("rpc", "operator", "add", "not a literal("),
    ("upgrade",),
]
"""Command lines the lean path leaves to the full CLI (nothing sent)."""


@pytest.mark.parametrize("words", PLAIN, ids=" ".join)
def test_a_plain_command_line_prints_and_exits_as_the_full_cli_does(
    served: Script, capfd: pytest.CaptureFixture[str], words: tuple[str, ...]
) -> None:
    lean = fast.run(argv(served, *words))
    lean_out = capfd.readouterr()
    full = app.main(argv(served, *words))
    full_out = capfd.readouterr()
    assert lean is not None
    assert (lean, lean_out.out, lean_out.err) == (full, full_out.out, full_out.err)


@pytest.mark.parametrize("words", LEFT, ids=" ".join)
def test_any_other_form_is_left_to_the_full_cli_with_nothing_sent(
    served: Script, words: tuple[str, ...]
) -> None:
    assert fast.run(argv(served, *words)) is None


def test_a_plain_command_loads_neither_argparse_nor_the_toml_parser_nor_dataclasses_nor_typing(
    served: Script,
) -> None:
    """Each command of the lean path, in a fresh interpreter as bin/<name> starts it."""
    for words in [
        ("ping",),
        ("versions",),
        ("check-code", "--json"),
        ("eval", "1"),
        ("rpc", "os", "getpid"),
    ]:
        code = (
            f"import sys; sys.path.insert(0, {str(RUNTIME)!r}); from primes_runtime import cli; "
            f"status = cli.main({argv(served, *words)!r}); "
            "print(status, sorted(m for m in ('tomllib', 'dataclasses', 'argparse', 'typing') "
            "if m in sys.modules), file=sys.stderr)"
        )
        done = subprocess.run(
            [sys.executable, "-S", "-s", "-E", "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PATH": "/usr/bin:/bin"},
        )
        assert done.stderr.split(" ", 1) == ["0", "[]\n"], (words, done.stderr)


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


def test_a_command_line_without_the_start_script_s_options_is_left_to_the_full_cli(
    served: Script,
) -> None:
    assert fast.run(["--root", str(served.root), "ping"]) is None


@pytest.mark.parametrize("name", ["", "-x"])
def test_a_name_the_full_parser_would_read_otherwise_is_left_to_the_full_cli(
    served: Script, name: str
) -> None:
    assert fast.run(["--root", str(served.root), "--name", name, "ping"]) is None


def test_output_cut_short_by_the_reader_ends_in_one_line_as_with_the_full_cli(
    served: Script,
) -> None:
    """`bin/<name> eval ... | head -c1`: the lean path's print fails with a broken pipe."""
    words = argv(served, "eval", "'x' * 300000")  # the node makes the long answer
    code = (
        f"import sys; sys.path.insert(0, {str(RUNTIME)!r}); from primes_runtime import cli; "
        f"sys.exit(cli.main({words!r}))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-S", "-s", "-E", "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(1) == b"'"  # the value's repr
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 1
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith("primenode: ") and "Broken pipe" in err
