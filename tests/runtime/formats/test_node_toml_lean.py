"""The lean cookie check agrees with the TOML reader: it says "no cookie" only when true."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from primes_runtime.formats import FormatError, node_toml, node_toml_lean

SAMPLES = Path(__file__).resolve().parents[2] / "contract" / "node_toml"

SETS_A_COOKIE = {
    "bare key": '[node]\ncookie = "c"\n',
    "quoted key": '[node]\n"cookie" = "c"\n',
    "literal quoted key": "[node]\n'cookie' = \"c\"\n",
    "dotted key": 'node.cookie = "c"\n',
    "inline table": 'node = { name = "n", cookie = "c" }\n',
    "escaped key": '[node]\n"\\u0063ookie" = "c"\n',
    "after a comment": '# settings\n[node]\n  cookie = "c" # the shared one\n',
    "after a multi-line string that ends on a #-line": (
        'node = { name = """\n# """, cookie = "c" }\n'
    ),
    "after a line separator in a string": 'node = { name = "a\u2028# x", cookie = "c" }\n',
}

SETS_NO_COOKIE = {
    "empty": "",
    "defaults": "[node]\n",
    "as the build writes it": node_toml.render({"name": "n"}, {"app": {"port": 1}}),
    "only a comment names it": '[node]\nname = "n"\n  # cookie = "c"\n',
}


@pytest.mark.parametrize("text", SETS_A_COOKIE.values(), ids=SETS_A_COOKIE.keys())
def test_a_node_toml_that_sets_a_cookie_may_set_one(text: str) -> None:
    assert node_toml.parse(text).cookie == "c"
    assert node_toml_lean.may_set_cookie(text) is True


@pytest.mark.parametrize("text", SETS_NO_COOKIE.values(), ids=SETS_NO_COOKIE.keys())
def test_a_node_toml_without_a_cookie_certainly_sets_none(text: str) -> None:
    assert node_toml.parse(text).cookie is None
    assert node_toml_lean.may_set_cookie(text) is False


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_every_contract_sample_the_check_clears_sets_no_cookie(sample: Path) -> None:
    text = sample.read_text(encoding="utf-8")
    if node_toml_lean.may_set_cookie(text):
        return
    with contextlib.suppress(FormatError):  # refused outright: no node boots from it
        assert node_toml.parse(text).cookie is None


def test_the_node_config_path_has_one_definition() -> None:
    assert node_toml.path_for is node_toml_lean.path_for
    assert node_toml.path_for("2") == "releases/2/node.toml"
