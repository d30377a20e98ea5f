"""The runtime side of the contract: the runtime's readers read every sample, old and new,
and refuse each invalid one with one line naming the file, the line and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from primes_runtime.formats import (
    FormatError,
    manifest,
    node_toml,
    releases,
    relup,
    sha256sums,
    start_data,
)
from primes_runtime.formats.relup import CodeChange, Load, LoadObjectCode, PointOfNoReturn

HERE = Path(__file__).parent


def samples(folder: str, pattern: str = "*") -> list[Path]:
    return sorted(p for p in (HERE / folder).glob(pattern) if p.is_file())


def ids(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.mark.parametrize(
    "sample", samples("relup/v1", "*.relup") + samples("relup/v2", "*.relup") +
    samples("build", "*.relup"), ids=ids,
)  # fmt: skip
def test_the_release_handler_reads_every_relup_sample_and_finds_it_sound(sample: Path) -> None:
    script = relup.read(sample)
    assert relup.problems(script.instructions) == []
    assert script.format == (1 if sample.parent.name == "v1" else 2)
    assert (script.against is None) == (script.format == 1)
    assert script.instructions, "a sample with no instruction tests nothing"


def test_the_seed_up_script_means_what_the_contract_says() -> None:
    script = relup.read(HERE / "relup/v1/seed_up_from_1.relup")
    miner = ("prime_miner.miner",)
    assert script.instructions[:2] == (
        LoadObjectCode("prime_miner", "1", "2", "lib/prime_miner-2", miner),
        PointOfNoReturn(),
    )
    assert [i.line for i in script.instructions[:2]] == [3, 4]
    (change,) = [i for i in script.instructions if isinstance(i, CodeChange)]
    assert (change.mode, change.old_vsn, change.extra) == ("up", "1", "from1to2")


def test_the_seed_down_script_hands_code_change_the_down_tuple() -> None:
    script = relup.read(HERE / "relup/v2/seed_down_to_1.relup")
    (change,) = [i for i in script.instructions if isinstance(i, CodeChange)]
    assert (change.mode, change.old_vsn, change.extra) == ("down", ("down", "1"), "from2to1")


def test_the_edges_sample_reads_each_optional_argument_as_its_documented_default() -> None:
    script = relup.read(HERE / "relup/v2/edges.relup")
    by_line = {i.line: i for i in script.instructions}
    assert by_line[11] == relup.Suspend(("a.m", "a.n"), 5.0)
    assert by_line[14] == Load("a.n")
    assert by_line[16] == relup.CodeChange(("a.m",), "up", "1", None, 5.0)
    assert by_line[17] == relup.CodeChange(("a.n",), "up", "1", {"k": [1, "x", None, True]}, 2.0)
    assert by_line[20] == relup.CodeChange(("a.m",), "down", ("down", "1"), None, 10.0)
    assert by_line[23] == relup.Apply("a.m", "f", ())
    assert by_line[25].args == (1, 2.5, "wörld", (2, (3,)), {"k": "v"}, None, False)  # type: ignore[union-attr]


INVALID_RELUP = {
    "apply_args_not_a_list": (2, "apply argument 'args' must be a list"),
    "code_change_down_with_an_up_version": (2, "'old_vsn' must be a version string for \"up\""),
    "code_change_up_with_a_down_version": (2, "'old_vsn' must be a version string for \"up\""),
    "header_not_on_line_1": (2, "the #relup header belongs on line 1"),
    "header_sha256_not_hex": (1, "the header must be #relup 2"),
    "header_without_sha256": (1, "the header must be #relup 2"),
    "load_object_code_empty_from_vsn": (2, "'from_vsn' must be a non-empty string"),
    "suspend_timeout_zero": (2, "'timeout' must be a positive number of seconds"),
    "switch_app_path_null_from_vsn": (2, "'from_path' must be null exactly when from_vsn is"),
    "two_points_of_no_return": (4, "a second point_of_no_return"),
    "unknown_argument": (2, "load has unknown argument(s) modules"),
    "unknown_format_version": (1, "relup format '3' is not one this runtime reads"),
    "unknown_instruction": (2, "unknown instruction 'purge'"),
}


def test_every_invalid_relup_sample_has_its_expected_refusal() -> None:
    assert sorted(p.stem for p in samples("relup/invalid")) == sorted(INVALID_RELUP)


@pytest.mark.parametrize(("name", "expected"), sorted(INVALID_RELUP.items()))
def test_an_invalid_relup_sample_is_refused_with_one_line_naming_its_line(
    name: str, expected: tuple[int, str]
) -> None:
    line, says = expected
    path = HERE / "relup/invalid" / f"{name}.relup"
    with pytest.raises(FormatError) as info:
        relup.read(path)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert says in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("sample", samples("releases/v1"), ids=ids)
def test_every_releases_sample_is_read(sample: Path) -> None:
    entries = releases.parse(sample.read_text(), str(sample))
    assert all(e.status in releases.STATUSES for e in entries)
    assert releases.parse(releases.render(entries)) == entries


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("format_2", "expected a JSON object with format 1"),
        ("status_current", r"releases\[0\] must be"),
        ("two_permanent", "more than one release is permanent"),
        ("version_twice", "release 1 is listed twice"),
    ],
)
def test_an_invalid_releases_sample_is_refused(name: str, says: str) -> None:
    path = HERE / "releases/invalid" / f"{name}.json"
    with pytest.raises(FormatError, match=says) as info:
        releases.parse(path.read_text(), str(path))
    assert str(info.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("basic", start_data.StartData("1", "lib/primes_runtime-1")),
        ("extra_space_and_blank_line", start_data.StartData("2.0.1+local",
                                                            "lib/primes_runtime-1.0.0rc1")),
        ("from_build", start_data.StartData("2", "lib/primes_runtime-7")),
    ],
)  # fmt: skip
def test_every_start_data_sample_is_read(name: str, expected: start_data.StartData) -> None:
    assert start_data.parse((HERE / "start_data" / name).read_text()) == expected


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("invalid_absolute_runtime_dir", "is not lib/<runtime>-<vsn>"),
        ("invalid_one_field", "expected one line '<vsn> <runtime dir>'"),
    ],
)
def test_an_invalid_start_data_sample_is_refused(name: str, says: str) -> None:
    with pytest.raises(FormatError, match=says):
        start_data.parse((HERE / "start_data" / name).read_text())


def test_the_sha256sums_sample_is_read_in_order() -> None:
    sums = sha256sums.parse((HERE / "sha256sums/basic").read_text(), "basic")
    assert [s.path for s in sums] == [
        "bin/primenode", "lib/a-1/a/__init__.py", "releases/1/release.json"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("invalid_absolute_path", "absolute, escapes the tree or is listed twice"),
        ("invalid_listed_twice", "absolute, escapes the tree or is listed twice"),
        ("invalid_not_hex", "expected '<64 hex>  <path>'"),
        ("invalid_one_space", "expected '<64 hex>  <path>'"),
    ],
)
def test_an_invalid_sha256sums_sample_is_refused_naming_its_line(name: str, says: str) -> None:
    path = HERE / "sha256sums" / name
    with pytest.raises(FormatError, match=says) as info:
        sha256sums.parse(path.read_text(), str(path))
    assert str(info.value).startswith(f"{path}:")


@pytest.mark.parametrize("sample", samples("release_json/v1"), ids=ids)
def test_every_release_json_sample_is_read(sample: Path) -> None:
    parsed = manifest.loads(sample.read_text(), str(sample))
    assert [a.name for a in parsed.apps] == ["alpha", "beta"]
    assert all(len(h) == 64 for a in parsed.apps for h in a.modules.values())


def test_a_release_json_written_before_libraries_reads_them_as_none() -> None:
    parsed = manifest.loads((HERE / "release_json/v1/written_before_libraries.json").read_text())
    assert parsed.libraries == ()


def test_a_library_sample_adds_and_removes_with_null_sides() -> None:
    script = relup.read(HERE / "relup/v2/libraries.relup")
    switches = [i for i in script.instructions if isinstance(i, relup.SwitchAppPath)]
    assert [(s.from_vsn, s.to_vsn) for s in switches] == [(None, "1.0"), ("0.9", None)]


def test_a_release_json_that_names_its_interpreter_reads_it_and_an_older_one_reads_none() -> None:
    parsed = manifest.loads((HERE / "release_json/v1/names_its_interpreter.json").read_text())
    assert parsed.python == "3.12"
    older = manifest.loads((HERE / "release_json/v1/every_optional_field.json").read_text())
    assert older.python == ""


def test_a_release_json_whose_interpreter_is_not_major_dot_minor_is_refused_in_one_line() -> None:
    path = HERE / "release_json/invalid/python_not_major_minor.json"
    with pytest.raises(FormatError) as info:
        manifest.loads(path.read_text(), str(path))
    assert str(info.value) == (
        f"{path}: key 'python' must be a Python version like \"3.12\", not '3.12.1'"
    )


def test_a_release_json_written_before_extensions_reads_them_as_empty() -> None:
    parsed = manifest.loads((HERE / "release_json/v1/written_before_extensions.json").read_text())
    assert parsed.runtime.extensions == {} and all(a.extensions == {} for a in parsed.apps)


@pytest.mark.parametrize("sample", samples("node_toml", "[!i]*.toml"), ids=ids)
def test_every_node_toml_sample_is_read(sample: Path) -> None:
    config = node_toml.parse(sample.read_text(), str(sample))
    assert config.shutdown_timeout > 0
    if sample.name == "every_key.toml":
        assert config.python == "/opt/python3.12/bin/python3.12"


def test_an_empty_node_toml_means_every_default() -> None:
    assert node_toml.parse("") == node_toml.NodeConfig()
    assert node_toml.NodeConfig().shutdown_timeout == node_toml.DEFAULT_SHUTDOWN_TIMEOUT


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("invalid_misspelt_key", "unknown key node.shutdown_timout"),
        ("invalid_zero_shutdown_timeout", "node.shutdown_timeout must be positive"),
        ("invalid_empty_python", "key node.python must name an interpreter"),
    ],
)
def test_an_invalid_node_toml_sample_is_refused(name: str, says: str) -> None:
    with pytest.raises(FormatError, match=says):
        node_toml.parse((HERE / "node_toml" / f"{name}.toml").read_text())
