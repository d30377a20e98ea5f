"""Newlines, CR, ESC and NUL in a code_change's exception or a process name: escaped in every
text output and in node.log, exact in --json (through the real bin/primenode)."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import COUNTER_V2, Script, make_package

FORGED = "release 2 installed over 1 (up) and made permanent"
NASTY = f"no\n{FORGED}\r\x1b[2J\x00"
SHOWN = f"no\\n{FORGED}\\r\\x1b[2J\\x00"
RAW = ("\n" + FORGED, "\r", "\x1b", "\x00")


def test_a_code_change_exception_full_of_control_characters_is_escaped_but_exact_in_json(
    running: Script, tmp_path: Path
) -> None:
    failing = COUNTER_V2.replace('"""Version 2', f'raise ValueError({NASTY!r})\n    """')
    package = make_package(tmp_path, counter_v2=failing)
    result = running.run("upgrade", str(package))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"raised ValueError: {SHOWN}; rolled back, release 1 is still current" in result.stderr
    assert not any(raw in result.stderr + result.stdout for raw in RAW)
    log = (running.root / "log" / "node.log").read_text()
    assert SHOWN in log
    assert not any(raw in log for raw in RAW)
    assert not [line for line in log.splitlines() if line.startswith(FORGED)]
    shown = running.run("upgrade", str(package), "--json")
    data = json.loads(shown.stdout)
    assert data["report"]["failed"]["reason"].endswith(f"raised ValueError: {NASTY}")
    assert running.ok("rpc", "demo_api", "incr") == "1\n"


def test_a_process_name_full_of_control_characters_is_escaped_in_status_but_exact_in_json(
    running: Script,
) -> None:
    start = f"primes_runtime.start_server('demo_app.counter', 0, name={NASTY!r})"
    running.ok("eval", f"import primes_runtime; {start}")
    text = running.ok("status")
    assert SHOWN in text
    assert not any(raw in text for raw in RAW)
    names = [p["name"] for p in json.loads(running.ok("status", "--json"))["processes"]]
    assert NASTY in names
