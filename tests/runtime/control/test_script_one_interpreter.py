"""The start script starts one interpreter per command once it has proved the interpreter."""

from __future__ import annotations

import sys
from pathlib import Path

from .conftest import Script


def counting_python(tmp_path: Path) -> tuple[Path, Path]:
    """An interpreter wrapper that appends a line to a log each time it starts."""
    log = tmp_path / "starts.log"
    wrapper = tmp_path / "python3-counting"
    wrapper.write_text(f'#!/bin/sh\necho start >> "{log}"\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper, log


def test_a_proved_interpreter_path_is_remembered_in_run_python(served: Script) -> None:
    assert served.ok("ping") == "pong\n"
    assert (served.root / "run" / "python").read_text().splitlines() == [sys.executable, "1"]


def test_ping_starts_one_interpreter_once_the_tree_knows_it(served: Script, tmp_path: Path) -> None:
    wrapper, log = counting_python(tmp_path)
    env = {"PRIMES_PYTHON": str(wrapper)}
    assert served.ok("ping", env=env) == "pong\n"
    assert log.read_text().count("start") == 2  # the is-it-Python probe, then the command
    assert served.ok("ping", env=env) == "pong\n"
    assert served.ok("pid", env=env).strip().isdigit()
    assert log.read_text().count("start") == 4  # one each


def test_another_interpreter_path_is_probed_again(served: Script, tmp_path: Path) -> None:
    served.ok("ping")
    wrapper, log = counting_python(tmp_path)
    assert served.ok("ping", env={"PRIMES_PYTHON": str(wrapper)}) == "pong\n"
    assert log.read_text().count("start") == 2
    assert (served.root / "run" / "python").read_text().splitlines() == [str(wrapper), "1"]


def test_the_start_of_a_fresh_tree_proves_the_interpreter_for_the_commands_after_it(
    script: Script, tmp_path: Path
) -> None:
    wrapper, log = counting_python(tmp_path)
    env = {"PRIMES_PYTHON": str(wrapper)}
    assert not (script.root / "run").exists()
    script.ok("start", env=env)
    try:
        assert (script.root / "run").stat().st_mode & 0o777 == 0o700
        starts = log.read_text().count("start")
        assert script.ok("ping", env=env) == "pong\n"
        assert log.read_text().count("start") == starts + 1  # no probe: start proved it
    finally:
        script.run("stop", env=env)
