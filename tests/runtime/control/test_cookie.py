"""The node's cookie: generated once, or fixed by node.toml; a client's choice of cookie."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from primes_runtime.control.cookie import client_cookie, node_cookie
from primes_runtime.control.errors import ControlError
from primes_runtime.control.tree import Tree

from .conftest import Script, build_tree


def test_the_first_start_generates_a_private_cookie_file_and_keeps_it(tree: Path) -> None:
    first = node_cookie(Tree(tree), "1")
    cookie_file = tree / "run" / "cookie"
    assert stat.S_IMODE(cookie_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tree / "run").stat().st_mode) == 0o700
    assert node_cookie(Tree(tree), "1") == first
    assert len(first) >= 32


def test_a_cookie_in_node_toml_wins_and_writes_no_file(tmp_path: Path) -> None:
    root = build_tree(tmp_path / "t", cookie="fixed")
    assert node_cookie(Tree(root), "1") == "fixed"
    assert not (root / "run" / "cookie").exists()
    assert client_cookie(Tree(root), None) == "fixed"


def test_a_client_prefers_the_option_then_the_environment_then_the_node(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = node_cookie(Tree(tree), "1")
    monkeypatch.delenv("PRIMES_COOKIE", raising=False)
    assert client_cookie(Tree(tree), None) == own
    monkeypatch.setenv("PRIMES_COOKIE", "from-env")
    assert client_cookie(Tree(tree), None) == "from-env"
    assert client_cookie(Tree(tree), "from-option") == "from-option"


def test_a_client_without_any_cookie_is_told_how_to_pass_one(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PRIMES_COOKIE", raising=False)
    with pytest.raises(ControlError, match="pass one with --cookie or PRIMES_COOKIE"):
        client_cookie(Tree(tree), None)


def test_a_cookie_of_the_wrong_type_in_node_toml_names_the_key(tmp_path: Path) -> None:
    root = build_tree(tmp_path / "t")
    (root / "releases" / "1" / "node.toml").write_text("[node]\ncookie = 5\n")
    with pytest.raises(ControlError, match=r"node\.toml: key node\.cookie has the wrong type"):
        node_cookie(Tree(root), "1")


def test_a_cookie_file_others_can_read_gets_one_warning_line_and_the_command_still_runs(
    running: Script,
) -> None:
    cookie_file = running.root / "run" / "cookie"
    cookie_file.chmod(0o644)
    for command in ("ping", "versions"):
        result = running.run(command)
        assert result.returncode == 0, result.stderr
        warnings = [line for line in result.stderr.splitlines() if "warning" in line]
        assert warnings == [
            f"primenode: warning: {cookie_file} is open to group or others (mode 0644); whoever "
            f"reads it can command the node: chmod 600 {cookie_file}"
        ]
    assert running.ok("ping") == "pong\n"
    cookie_file.chmod(0o600)
    assert running.run("ping").stderr == ""
