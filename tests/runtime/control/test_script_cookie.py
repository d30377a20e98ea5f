"""The script's cookie handling against a control server run here (a stand-in node)."""

from __future__ import annotations

from .conftest import Script


def test_the_node_cookie_is_found_in_run_cookie(served: Script) -> None:
    assert served.ok("ping") == "pong\n"


def test_a_wrong_cookie_option_is_refused_with_one_line(served: Script) -> None:
    result = served.run("--cookie", "wrong", "ping")
    assert result.returncode == 1
    assert result.stderr.startswith("primenode: the node refused the cookie")
    assert len(result.stderr.splitlines()) == 1
    assert served.ok("ping") == "pong\n"


def test_a_cookie_option_after_the_command_is_accepted(served: Script) -> None:
    assert served.run("ping", "--cookie", "wrong").returncode == 1


def test_primes_cookie_overrides_the_cookie_file(served: Script) -> None:
    result = served.run("ping", env={"PRIMES_COOKIE": "wrong"})
    assert result.returncode == 1
    assert "refused the cookie" in result.stderr
    right = (served.root / "run" / "cookie").read_text().strip()
    assert served.ok("ping", env={"PRIMES_COOKIE": right}) == "pong\n"


def test_a_missing_cookie_file_says_how_to_pass_one(served: Script) -> None:
    right = (served.root / "run" / "cookie").read_text().strip()
    (served.root / "run" / "cookie").unlink()
    result = served.run("ping")
    assert result.returncode == 1
    assert "pass one with --cookie or PRIMES_COOKIE" in result.stderr
    assert served.ok("--cookie", right, "ping") == "pong\n"


def test_a_cookie_that_starts_with_a_dash_is_a_value_not_an_option(served: Script) -> None:
    # A generated cookie (token_urlsafe) starts with "-" one time in 64.
    result = served.run("--cookie", "-wrong", "ping")
    assert result.returncode == 1, result.stderr
    assert "refused the cookie" in result.stderr
