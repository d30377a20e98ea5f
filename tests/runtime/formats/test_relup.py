"""Tests for primes_runtime.formats.relup: the one .relup grammar, its header and its check."""

from __future__ import annotations

from pathlib import Path

import pytest
from primes_runtime.formats import FormatError
from primes_runtime.formats import relup as ll

P = Path("releases/2/up_from_1.relup")
SHA = "a" * 64
EVERY_KIND: tuple[ll.Instruction, ...] = (
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
    ll.Apply("a.m", "hello", ("wörld", 2, (3, 4))),
)


def script(*instructions: ll.Instruction) -> ll.Relup:
    return ll.Relup(P, instructions, against=ll.Against("1", SHA))


def test_every_instruction_survives_render_then_parse() -> None:
    parsed = ll.parse(ll.render(script(*EVERY_KIND), ["a comment"]), P)
    assert parsed.instructions == EVERY_KIND
    assert (parsed.format, parsed.against) == (2, ll.Against("1", SHA))


def test_render_writes_the_header_then_comments_then_one_instruction_a_line() -> None:
    text = ll.render(script(ll.PointOfNoReturn(), ll.Load("m")), ["head"])
    assert text == (
        f'#relup 2 {{"against": "1", "sha256": "{SHA}"}}\n# head\npoint_of_no_return\n'
        'load {"module": "m"}\n'
    )


def test_parse_keeps_each_instruction_s_line_and_a_format_1_script_has_no_header() -> None:
    parsed = ll.parse('\n# note\n   \nstart_app {"app": "x"}\n', P)
    assert parsed.instructions == (ll.StartApp("x"),)
    assert parsed.instructions[0].line == 4
    assert (parsed.format, parsed.against) == (1, None)


def test_a_format_2_script_without_against_cannot_be_rendered() -> None:
    with pytest.raises(ValueError, match="names the release it was built against"):
        ll.render(ll.Relup(P, (ll.PointOfNoReturn(),)))


def test_a_format_1_script_renders_without_a_header_for_old_nodes() -> None:
    assert ll.render(ll.Relup(P, (ll.PointOfNoReturn(),), format=1)) == "point_of_no_return\n"


@pytest.mark.parametrize(
    ("line", "default"),
    [
        ('suspend {"modules": ["m"]}', ll.Suspend(("m",), 5.0)),
        ('apply {"module": "m", "function": "f"}', ll.Apply("m", "f", ())),
        (
            'code_change {"modules": ["m"], "mode": "up", "old_vsn": "1"}',
            ll.CodeChange(("m",), "up", "1", None, 5.0),
        ),
    ],
)
def test_optional_arguments_take_their_documented_defaults(
    line: str, default: ll.Instruction
) -> None:
    assert ll.parse(line, P).instructions == (default,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('frobnicate {"x": 1}', "up_from_1.relup:1: unknown instruction 'frobnicate'"),
        ("load {module}", ":1: load arguments are not valid JSON"),
        ('load ["m"]', ":1: load arguments must be a JSON object"),
        ('load {"modul": "m"}', ":1: load argument 'module' is missing"),
        ('load {"module": "m", "x": 1}', ":1: load has unknown argument(s) x"),
        ('suspend {"modules": "m"}', "'modules' must be a list of module names"),
        ('suspend {"modules": ["m"], "timeout": -1}', "'timeout' must be a positive number"),
        ('suspend {"modules": ["m"], "timeout": true}', "'timeout' must be a positive number"),
        ('code_change {"modules": ["m"], "mode": "sideways"}', "'mode' must be 'up' or 'down'"),
        (
            'code_change {"modules": ["m"], "mode": "up", "old_vsn": ["down", "1"]}',
            "'old_vsn' must be a version string",
        ),
        (
            'code_change {"modules": ["m"], "mode": "down", "old_vsn": ["down", ""]}',
            "'old_vsn' must be a version string",
        ),
        (
            'switch_app_path {"app": "a", "from_vsn": null, "to_vsn": "2", "from_path": "x", '
            '"to_path": "y"}',
            "'from_path' must be null exactly when from_vsn is",
        ),
        (
            'switch_app_path {"app": "a", "from_vsn": null, "to_vsn": null, "from_path": null, '
            '"to_path": null}',
            "cannot both be null",
        ),
        (
            'switch_app_path {"app": "a", "from_vsn": "", "to_vsn": "2", "from_path": "x", '
            '"to_path": "y"}',
            "'from_vsn' must be a non-empty string or null",
        ),
        (
            'load_object_code {"app": "a", "from_vsn": "", "to_vsn": "2", "path": "x", '
            '"modules": []}',
            "'from_vsn' must be a non-empty string",
        ),
        ('apply {"module": "m", "function": "f", "args": 1}', "'args' must be a list"),
        ("# c\n\npoint_of_no_return now", ":3: point_of_no_return takes no arguments"),
        ("point_of_no_return\npoint_of_no_return", ":2: a second point_of_no_return"),
        (f'# x\n#relup 2 {{"against": "1", "sha256": "{SHA}"}}', ":2: the #relup header belongs"),
        (f'#relup 9 {{"against": "1", "sha256": "{SHA}"}}', ":1: relup format '9' is not one"),
        ('#relup 2 {"against": "", "sha256": "x"}', ":1: the header must be #relup 2"),
        ("#relup 2 {nope", ":1: the header is not valid JSON"),
    ],
)
def test_malformed_scripts_are_refused_with_file_and_line(text: str, message: str) -> None:
    with pytest.raises(FormatError) as info:
        ll.parse(text, P)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_an_unreadable_script_is_a_format_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="cannot read the upgrade script"):
        ll.read(tmp_path / "missing.relup")
    bad = tmp_path / "latin1.relup"
    bad.write_bytes(b"# caf\xe9\n")
    with pytest.raises(FormatError, match="not UTF-8"):
        ll.read(bad)


SOUND = (
    ll.LoadObjectCode("a", "1", "2", "lib/a-2", ("a.m",)),
    ll.PointOfNoReturn(),
    ll.Suspend(("a.m",)),
    ll.Load("a.m"),
    ll.CodeChange(("a.m",), "up", "1"),
    ll.Resume(("a.m",)),
)


def test_a_sound_script_has_no_structural_problem() -> None:
    assert ll.problems(SOUND) == []
    ll.check(script(*SOUND))


@pytest.mark.parametrize(
    ("instructions", "says"),
    [
        (SOUND[:-1], "a.m is suspended and never resumed"),
        ((*SOUND, ll.Load("a.m")), "a.m is loaded twice"),
        ((ll.PointOfNoReturn(), ll.Load("pm")), "load of pm not prepared by load_object_code"),
        ((ll.Load("pm"), ll.PointOfNoReturn()), "comes before point_of_no_return"),
        ((ll.PointOfNoReturn(), SOUND[0]), "load_object_code after the preparation phase"),
        ((ll.Resume(("a.m",)),), "resume of a.m never suspended"),
        ((ll.CodeChange(("a.m",), "up", "1"),), "code_change of a.m without a suspend"),
        ((ll.Suspend(("m",)), ll.Suspend(("m",)), ll.Resume(("m",))), "m is suspended twice"),
    ],
)
def test_structural_problems_are_found(instructions: tuple[ll.Instruction, ...], says: str) -> None:
    assert any(says in p for p in ll.problems(instructions)), ll.problems(instructions)


def test_check_names_the_line_of_each_problem_in_a_parsed_script() -> None:
    parsed = ll.parse('point_of_no_return\nresume {"modules": ["m"]}\n', P)
    with pytest.raises(FormatError, match=r"up_from_1.relup: 1 problem\(s\): line 2: resume of m"):
        ll.check(parsed)


def test_describe_names_the_instruction_and_its_target() -> None:
    assert [ll.describe(i) for i in EVERY_KIND[:3]] == [
        "load_object_code a",
        "point_of_no_return",
        "suspend a.m",
    ]
    assert ll.describe(EVERY_KIND[-1]) == "apply a.m:hello"
