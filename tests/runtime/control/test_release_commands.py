"""unpack, install, permanent, upgrade, downgrade, uninstall and versions through bin/primenode."""

from __future__ import annotations

from pathlib import Path

from .conftest import COUNTER_V2, Script, make_package


def versions(script: Script) -> dict[str, str]:
    return dict(line.split() for line in script.ok("versions").splitlines())  # type: ignore[misc]


def test_unpack_install_permanent_and_uninstall_step_by_step(
    running: Script, tmp_path: Path
) -> None:
    package = make_package(tmp_path)
    assert running.ok("rpc", "demo_api", "incr") == "1\n"
    assert running.ok("unpack", str(package)).strip() == "2"
    assert versions(running)["2"] == "unpacked"
    assert "release 2 installed over 1" in running.ok("install", "2")
    assert running.ok("rpc", "demo_api", "version") == "two\n"
    assert running.ok("rpc", "demo_api", "incr") == "101\n"  # the state went through code_change
    running.ok("permanent", "2")
    assert versions(running) == {"2": "permanent", "1": "old"}
    running.ok("uninstall", "1")
    assert versions(running) == {"2": "permanent"}


def test_upgrade_from_a_relative_package_path_then_downgrade(
    running: Script, tmp_path: Path
) -> None:
    make_package(tmp_path)
    running.ok("rpc", "demo_api", "incr")
    running.ok("upgrade", "primenode_2.tar.gz", cwd=tmp_path)
    assert versions(running) == {"2": "permanent", "1": "old"}
    assert running.ok("rpc", "demo_api", "incr") == "101\n"
    running.ok("downgrade", "1")
    assert versions(running)["1"] == "permanent"
    assert running.ok("rpc", "demo_api", "incr") == "2\n"  # 101 // 100 + 1
    assert running.run("rpc", "demo_api", "version").returncode == 1


def test_refused_release_commands_print_one_line_and_leave_the_node_serving(
    running: Script,
) -> None:
    for args in (["install", "9"], ["permanent", "9"], ["uninstall", "1"], ["upgrade", "9"]):
        result = running.run(*args)
        assert result.returncode == 1, args
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert result.stderr.startswith("primenode: ")
    assert running.ok("ping") == "pong\n"
    assert versions(running) == {"1": "permanent"}


def test_a_tampered_package_is_refused(running: Script, tmp_path: Path) -> None:
    package = make_package(tmp_path)
    data = bytearray(package.read_bytes())
    data[len(data) // 2] ^= 0xFF
    package.write_bytes(bytes(data))
    result = running.run("unpack", str(package))
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert versions(running) == {"1": "permanent"}


def test_a_refused_release_command_is_recorded_in_the_node_log(running: Script) -> None:
    result = running.run("install", "9")
    assert result.returncode == 1
    log = (running.root / "log" / "node.log").read_text()
    assert "control: install 9 failed: release 9 is not unpacked" in log


def test_a_failed_upgrade_names_the_step_first_and_leaves_the_node_as_it_was(
    running: Script, tmp_path: Path
) -> None:
    failing = COUNTER_V2.replace('"""Version 2', 'raise ValueError("cannot migrate")\n    """')
    package = make_package(tmp_path, counter_v2=failing)
    assert running.ok("rpc", "demo_api", "incr") == "1\n"
    result = running.run("upgrade", str(package), merged=True)
    assert result.returncode == 1
    first, *details = result.stdout.splitlines()
    assert first.startswith("primenode: install of 2 failed at releases/2/up_from_1.relup:7 ")
    assert first.endswith(
        "raised ValueError: cannot migrate; rolled back, release 1 is still current"
    )
    assert details and all(line.startswith("  paused <0.") for line in details), details
    assert versions(running) == {"1": "permanent"}
    assert not (running.root / "releases" / "2").exists()
    assert running.ok("rpc", "demo_api", "incr") == "2\n"


def test_upgrade_on_the_lean_path_prints_what_the_full_cli_prints(
    running: Script, tmp_path: Path
) -> None:
    """`upgrade` in the start script's plain form is sent before the full CLI is imported
    (cli/fast.py); `--cookie` before the command takes the full CLI: the same outcomes."""
    package = make_package(tmp_path)
    cookie = (running.root / "run" / "cookie").read_text().strip()
    full = ["--cookie", cookie]
    for args in (
        ["upgrade", "9"],
        ["upgrade", "--json", "9"],
        ["upgrade", "--probation", "0", "--json", "9"],
        ["upgrade", "--probation", "x", "9"],
        ["upgrade", str(tmp_path / "missing.tar.gz")],
        ["upgrade", str(tmp_path)],
    ):
        lean, other = running.run(*args), running.run(*full, *args)
        assert (lean.returncode, lean.stdout, lean.stderr) == (
            other.returncode,
            other.stdout,
            other.stderr,
        ), args
    result = running.run("upgrade", "--json", "--probation", "0", str(package))
    assert result.returncode == 0, result.stderr
    assert '"ok": true, "command": "upgrade", "from_version": "1", "to_version": "2"' in (
        result.stdout
    )
    again, other = running.run("upgrade", str(package)), running.run(*full, "upgrade", str(package))
    assert (again.returncode, again.stdout, again.stderr) == (0, other.stdout, other.stderr)
    assert versions(running) == {"2": "permanent", "1": "old"}
