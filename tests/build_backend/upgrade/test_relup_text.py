"""Tests for primes_build.upgrade.relup_text: rendering and parsing .relup scripts."""

from __future__ import annotations

import pytest
from primes_build.upgrade import lowlevel as ll
from primes_build.upgrade.relup_text import RelupError, parse, render

EVERY_KIND: list[ll.Instruction] = [
    ll.LoadObjectCode("a", "1", "2", "lib/a-2", ("a.m", "a.n")),
    ll.PointOfNoReturn(),
    ll.Suspend(("a.m",), 7.5),
    ll.CodeChange(("a.m",), "down", ("down", "1"), {"k": [1, "x"]}, 5.0),
    ll.SwitchAppPath("a", "2", "1", "lib/a-2", "lib/a-1"),
    ll.Load("a.m"),
    ll.CodeChange(("a.m",), "up", "1", None, 5.0),
    ll.Resume(("a.m",)),
    ll.Remove("a.old"),
    ll.StartApp("b"),
    ll.StopApp("c"),
    ll.Apply("a.m", "hello", ("wörld", 2)),
]


def test_every_instruction_survives_render_then_parse() -> None:
    assert parse(render(["a comment"], EVERY_KIND)) == EVERY_KIND


def test_render_writes_comments_first_then_one_instruction_a_line() -> None:
    text = render(["head"], [ll.PointOfNoReturn(), ll.Load("m")])
    assert text == '# head\npoint_of_no_return\nload {"module": "m"}\n'


def test_parse_skips_comments_and_blank_lines() -> None:
    assert parse('\n# note\n   \nstart_app {"app": "x"}\n') == [ll.StartApp("x")]


def test_parse_refuses_an_unknown_instruction_with_its_line() -> None:
    with pytest.raises(RelupError) as e:
        parse('# head\nload {"module": "m"}\npurge {"module": "m"}\n', origin="up.relup")
    assert str(e.value).startswith("up.relup:3: unknown instruction `purge`")


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('load {"module": "m", "extra": 1}', "unknown extra"),
        ('suspend {"modules": ["m"]}', "missing timeout"),
        ("load [1]", "must be a JSON object"),
        ("load {nope}", "not valid JSON"),
        ('suspend {"modules": ["m"], "timeout": -1}', "positive number"),
        ('resume {"modules": "m"}', "list of non-empty strings"),
        (
            'code_change {"modules": ["m"], "mode": "up", "old_vsn": ["down", "1"], '
            '"extra": null, "timeout": 5.0}',
            "old_vsn",
        ),
        (
            'code_change {"modules": ["m"], "mode": "sideways", "old_vsn": "1", '
            '"extra": null, "timeout": 5.0}',
            "mode",
        ),
        ("point_of_no_return {}", "takes no arguments"),
    ],
)
def test_parse_refuses_malformed_arguments(line: str, says: str) -> None:
    with pytest.raises(RelupError, match=says) as e:
        parse(line)
    assert e.value.line == 1
