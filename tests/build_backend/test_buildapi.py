"""Tests of the PEP 517 hooks (primes_build.buildapi) called directly, as a frontend would."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from primes_build import api, buildapi

from tests.build_backend.helpers import use_broken


def test_a_build_error_is_one_error_line_and_exit_1(
    sample: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_broken(sample, "unknown_key")
    monkeypatch.chdir(sample)
    with pytest.raises(SystemExit) as caught:
        buildapi.build_wheel(str(tmp_path / "out"))
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert err == "ERROR primes.toml:7: `apps.alpha.pth`: unknown key (did you mean `path`?)\n"


def test_the_sdist_requires_nothing_and_the_wheel_asks_for_what_it_imports(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(sample)
    assert buildapi.get_requires_for_build_sdist(None) == []
    # this env has primes-build's imports (a --no-isolation build): nothing about the apps
    assert buildapi.get_requires_for_build_wheel({}) == [
        "jinja2>=3.1",
        "packaging>=26.4",
        "installer>=0.7",
    ]


def test_prepared_metadata_is_the_metadata_of_the_built_wheel(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(sample)
    info = buildapi.prepare_metadata_for_build_wheel(str(tmp_path / "meta"))
    assert info == "sample-1.dist-info"
    name = buildapi.build_wheel(str(tmp_path / "out"), {}, str(tmp_path / "meta" / info))
    assert name == "sample-1-py3-none-any.whl"
    with zipfile.ZipFile(tmp_path / "out" / name) as wheel:
        assert (
            wheel.read(f"{info}/METADATA") == (tmp_path / "meta" / info / "METADATA").read_bytes()
        )
    assert (tmp_path / "out" / "sample_1.tar.gz").is_file()


def test_previous_accepts_one_path_or_a_list() -> None:
    assert api.previous_settings(None) == []
    assert api.previous_settings({"previous": "/a.tar.gz"}) == ["/a.tar.gz"]
    assert api.previous_settings({"previous": ["/a", "/b"]}) == ["/a", "/b"]


@pytest.mark.parametrize(
    ("key", "line"),
    [
        ("foo", "ERROR unknown config setting `foo`; known: previous, sign-key, wheelhouse\n"),
        (
            "previus",
            "ERROR unknown config setting `previus` (did you mean `previous`?); "
            "known: previous, sign-key, wheelhouse\n",
        ),
    ],
)
def test_an_unknown_config_setting_is_refused_by_every_hook(
    sample: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    key: str,
    line: str,
) -> None:
    monkeypatch.chdir(sample)
    settings = {key: "x"}
    hooks: list[Callable[[], object]] = [
        lambda: buildapi.get_requires_for_build_sdist(settings),
        lambda: buildapi.get_requires_for_build_wheel(settings),
        lambda: buildapi.build_sdist(str(tmp_path / "out"), settings),
        lambda: buildapi.prepare_metadata_for_build_wheel(str(tmp_path / "meta"), settings),
        lambda: buildapi.build_wheel(str(tmp_path / "out"), settings),
    ]
    for hook in hooks:
        with pytest.raises(SystemExit) as caught:
            hook()
        assert caught.value.code == 1
        assert capsys.readouterr().err == line
    assert not (tmp_path / "out").exists() and not (tmp_path / "meta").exists()


def test_the_previous_setting_and_no_settings_are_accepted(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(sample)
    wanted = buildapi.get_requires_for_build_wheel()
    assert buildapi.get_requires_for_build_wheel({"previous": "/a.tar.gz"}) == wanted
    assert buildapi.get_requires_for_build_sdist({}) == []
