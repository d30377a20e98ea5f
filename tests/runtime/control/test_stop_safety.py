"""stop never signals a process it cannot prove is the node (issue 15 item 1).

Every pid file here is written inside a fresh PID namespace (`unshare --pid --fork
--mount-proc`) run in a session of its own, so a regression that signals -1 (every process
of the namespace), 0 (the caller's process group, which a namespace does not confine) or a
stranger hurts only that namespace and session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from .conftest import Script

pytestmark = pytest.mark.skipif(
    shutil.which("unshare") is None or os.geteuid() != 0,
    reason="needs unshare and root for a PID namespace",
)

SCENARIO = """
set -u
cd "$ROOT"
sleep 300 &
sentinel=$!
mkdir -p run
case "$CONTENT" in
    SENTINEL) echo "$sentinel" > run/node.pid ;;
    FORGED) echo "$sentinel $(cut -d' ' -f22 /proc/$sentinel/stat)" > run/node.pid ;;
    *) printf '%s\\n' "$CONTENT" > run/node.pid ;;
esac
bin/primenode stop 2>stop.err
echo "stop=$?"
if kill -0 "$sentinel" 2>/dev/null; then echo sentinel=alive; else echo sentinel=dead; fi
if [ -e run/node.pid ]; then echo pidfile=present; else echo pidfile=gone; fi
if [ "${THEN_START:-}" = 1 ]; then
    bin/primenode start 2>start.err
    echo "start=$?"
    bin/primenode ping
    bin/primenode stop
    echo "stop_again=$?"
fi
kill "$sentinel"
"""


def in_namespace(script: Script, content: str, then_start: bool = False) -> dict[str, str]:
    """Run the scenario in a new PID namespace; the key=value lines it printed."""
    env = {k: v for k, v in os.environ.items() if k != "PRIMES_COOKIE"}
    env.update(ROOT=str(script.root), CONTENT=content, PRIMES_PYTHON=sys.executable)
    env["THEN_START"] = "1" if then_start else ""
    result = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", SCENARIO],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,  # kill(0) reaches the process group even across namespaces
    )
    assert result.returncode == 0, result.stderr
    seen = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    seen["pong"] = str("pong" in result.stdout.splitlines())
    return seen


@pytest.mark.parametrize(
    "content",
    ["-1", "0", "99999999999999999999", "garbage", "SENTINEL", "FORGED", "12 34 56", ""],
    ids=["minus-one", "zero", "twenty-digits", "garbage", "a-stranger", "a-forged-record",
         "three-fields", "empty"],
)  # fmt: skip
def test_stop_refuses_to_signal_what_a_bad_pid_file_names(script: Script, content: str) -> None:
    seen = in_namespace(script, content)
    assert seen["sentinel"] == "alive"
    assert seen["stop"] == "3"
    assert (script.root / "stop.err").read_text() == "primenode: the node is not running\n"
    assert seen["pidfile"] == "gone"


@pytest.mark.parametrize("content", ["-1", "99999999999999999999"])
def test_start_works_again_after_an_unprovable_pid_file(script: Script, content: str) -> None:
    seen = in_namespace(script, content, then_start=True)
    assert seen["sentinel"] == "alive"
    assert seen["start"] == "0", (script.root / "start.err").read_text()
    assert seen["pong"] == "True"
    assert seen["stop_again"] == "0"
