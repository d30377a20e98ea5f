"""bin/primenode through the real script when no node runs: help, usage and the no-node paths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Script

CLIENT_COMMANDS = [
    ["ping"],
    ["pid"],
    ["status"],
    ["stop"],
    ["eval", "1 + 1"],
    ["rpc", "demo_api", "add", "1", "2"],
    ["remote_console"],
    ["install", "2"],
    ["permanent", "2"],
    ["upgrade", "2"],
    ["downgrade", "1"],
    ["uninstall", "1"],
]


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_help_lists_every_command(script: Script) -> None:
    out = script.ok("help")
    for command in [
        "start", "foreground", "console", "stop", "restart", "ping", "pid", "status",
        "versions", "eval", "rpc", "remote_console", "unpack", "install", "permanent",
        "upgrade", "downgrade", "uninstall", "help",
    ]:  # fmt: skip
        assert f"\n  {command}" in out, command
    assert "PRIMES_COOKIE" in out


def test_ping_without_a_node_exits_3_with_one_line(script: Script) -> None:
    result = script.run("ping")
    assert result.returncode == 3
    assert result.stdout == ""
    assert one_line(result.stderr).startswith("primenode: the node is not running")


@pytest.mark.parametrize("args", CLIENT_COMMANDS, ids=lambda a: a[0])
def test_every_client_command_without_a_node_fails_with_one_line(
    script: Script, args: list[str]
) -> None:
    result = script.run(*args)
    assert result.returncode == 3
    assert "not running" in one_line(result.stderr)


def test_versions_without_a_node_reads_releases(script: Script) -> None:
    assert script.ok("versions") == "1 permanent\n"


def test_an_unknown_command_is_a_usage_error(script: Script) -> None:
    result = script.run("fly")
    assert result.returncode == 2
    assert one_line(result.stderr) == "primenode: unknown command 'fly'; see 'primenode help'"


def test_no_command_is_a_usage_error_not_a_silent_success(script: Script) -> None:
    result = script.run()
    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        one_line(result.stderr)
        == "primenode: no command given; see 'primenode help' for the commands"
    )


@pytest.mark.parametrize(
    ("args", "usage"),
    [
        (["eval"], "eval: the following arguments are required: CODE"),
        (["rpc", "demo_api"], "rpc: the following arguments are required: FUNCTION"),
        (["install"], "install: the following arguments are required: VSN"),
        (["ping", "extra"], "ping: unrecognized arguments: extra"),
    ],
)
def test_wrong_argument_counts_print_one_line_and_where_the_help_is(
    script: Script, args: list[str], usage: str
) -> None:
    result = script.run(*args)
    assert result.returncode == 2
    command = usage.split(":")[0]
    assert one_line(result.stderr) == f"primenode: {usage}; see 'primenode {command} --help'"


def test_an_rpc_argument_that_is_not_a_literal_is_refused_before_connecting(
    script: Script,
) -> None:
    result = script.run("rpc", "demo_api", "greet", "world")
    assert result.returncode == 2
    assert "argument 'world' is not a Python literal" in one_line(result.stderr)


@pytest.mark.parametrize("command", ["start", "restart"])
@pytest.mark.parametrize("value", ["soon", "-5", "nan"])
def test_an_invalid_start_timeout_is_a_usage_error_and_starts_nothing(
    script: Script, command: str, value: str
) -> None:
    try:
        result = script.run(command, env={"PRIMES_START_TIMEOUT": value})
    finally:
        script.run("stop")  # in case a node was started after all
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        f"primenode: PRIMES_START_TIMEOUT={value!r} is not a number of seconds; "
        "set it to one (e.g. 60) or unset it"
    )
    assert not (script.root / "run" / "node.pid").exists()
    assert not (script.root / "log" / "console.log").exists()


def test_unpack_of_a_missing_package_names_it(script: Script) -> None:
    result = script.run("unpack", "no/such/primenode_2.tar.gz")
    assert result.returncode == 1
    assert one_line(result.stderr) == "primenode: no such package: no/such/primenode_2.tar.gz"


def test_upgrade_of_a_directory_asks_for_the_package_file(script: Script, tmp_path: Path) -> None:
    result = script.run("upgrade", str(tmp_path))
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"primenode: {tmp_path} is a directory; give the package file, "
        f"e.g. {tmp_path}/primenode_<vsn>.tar.gz"
    )


def test_the_script_works_through_a_symlink_from_any_directory(
    script: Script, tmp_path: Path
) -> None:
    links = tmp_path / "elsewhere" / "bin"
    links.mkdir(parents=True)
    (links / "pn").symlink_to(script.path)
    (links / "pn2").symlink_to("pn")  # a chain of relative links
    elsewhere = tmp_path / "elsewhere"
    for link in (links / "pn", links / "pn2"):
        assert script.ok("versions", script=link, cwd=elsewhere) == "1 permanent\n"


def test_the_script_run_by_its_bare_name_from_its_own_directory_finds_the_tree(
    script: Script,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PRIMES_COOKIE"}
    env["PRIMES_PYTHON"] = sys.executable
    for name in ("primenode", "./primenode"):  # $0 without a directory part, and with "."
        result = subprocess.run(
            ["sh", name, "versions"],
            cwd=script.path.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (result.returncode, result.stdout) == (0, "1 permanent\n"), result.stderr


def test_a_missing_interpreter_names_primes_python(script: Script) -> None:
    result = script.run("ping", env={"PRIMES_PYTHON": "/no/such/python3"})
    assert result.returncode == 1
    assert "set PRIMES_PYTHON" in one_line(result.stderr)


def test_an_interpreter_too_old_for_the_release_names_primes_python(
    script: Script, tmp_path: Path
) -> None:
    old = tmp_path / "python2.7"
    # what an old interpreter does with the script's check: prints its version, fails it
    old.write_text("#!/bin/sh\necho 2.7.18\nexit 3\n")
    old.chmod(0o755)
    result = script.run("ping", env={"PRIMES_PYTHON": str(old)})
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "is Python 2.7.18, but release 1 needs Python >=3.11" in line
    assert "set PRIMES_PYTHON" in line


def test_a_program_that_is_not_python_is_named_as_such(script: Script) -> None:
    result = script.run("ping", env={"PRIMES_PYTHON": "/bin/true"})
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "/bin/true is not a Python interpreter" in line
    assert "set PRIMES_PYTHON" in line


def test_python_environment_variables_do_not_reach_the_runtime(
    script: Script, tmp_path: Path
) -> None:
    trap = tmp_path / "trap"
    (trap / "primes_runtime").mkdir(parents=True)
    (trap / "primes_runtime" / "__init__.py").write_text("raise SystemExit('leaked')\n")
    result = script.run("versions", env={"PYTHONPATH": str(trap)}, cwd=trap)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1 permanent\n"


def test_a_tree_without_start_data_is_reported(script: Script) -> None:
    (script.root / "releases" / "start_data").unlink()
    result = script.run("ping")
    assert result.returncode == 1
    assert "start_data does not name a runtime directory" in one_line(result.stderr)


def test_stop_without_a_node_says_so_and_removes_a_stale_pid_file(script: Script) -> None:
    run = script.root / "run"
    run.mkdir()
    (run / "node.pid").write_text("999999\n")
    result = script.run("stop")
    assert result.returncode == 3
    assert one_line(result.stderr) == "primenode: the node is not running"
    assert not (run / "node.pid").exists()
