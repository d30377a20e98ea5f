"""Tests of primes_build.project.config: a valid primes.toml, one broken primes.toml per error."""

from __future__ import annotations

from pathlib import Path

import pytest
from primes_build.errors import BuildError
from primes_build.project import config

from tests.build_backend.helpers import use_broken


def load_error(project: Path) -> BuildError:
    with pytest.raises(BuildError) as caught:
        config.load(project)
    return caught.value


def test_valid_primes_toml_is_read_into_a_release_config(sample: Path) -> None:
    loaded = config.load(sample)
    assert (loaded.name, loaded.version, loaded.requires_python) == ("sample", "1", ">=3.11")
    assert [a.name for a in loaded.apps] == ["alpha", "beta"]
    assert loaded.apps[0].directory == sample / "apps" / "alpha"
    assert loaded.runtime.directory == sample / "runtime"
    assert loaded.node == {
        "name": "sample",
        "shutdown_timeout": 3.0,
        "log_max_bytes": 1000,
        "log_backups": 2,
    }
    assert loaded.env == {"beta": {"greeting": "hi"}}
    assert loaded.python_min == "3.11"


def test_syntax_error_gives_the_line(sample: Path) -> None:
    use_broken(sample, "syntax_error")
    error = load_error(sample)
    assert (error.file, error.line) == ("primes.toml", 3)
    assert "TOML syntax error" in str(error)


def test_unknown_key_suggests_the_close_one(sample: Path) -> None:
    use_broken(sample, "unknown_key")
    error = load_error(sample)
    assert str(error) == "primes.toml:7: `apps.alpha.pth`: unknown key (did you mean `path`?)"


def test_unknown_node_key_suggests_the_close_one(sample: Path) -> None:
    use_broken(sample, "unknown_node_key")
    error = load_error(sample)
    assert error.key == "node.shutdown_timout" and error.line == 6
    assert "did you mean `shutdown_timeout`?" in str(error)


def test_wrong_type_names_the_key_and_both_types(sample: Path) -> None:
    use_broken(sample, "wrong_type")
    error = load_error(sample)
    assert str(error) == "primes.toml:3: `release.version`: must be a string, not an integer"


def test_app_listed_but_not_found(sample: Path) -> None:
    use_broken(sample, "app_not_found")
    error = load_error(sample)
    assert error.key == "apps.omega.path" and error.line == 9
    assert "app `omega` not found" in str(error)


def test_env_for_an_app_not_listed_suggests_the_close_one(sample: Path) -> None:
    use_broken(sample, "env_for_unlisted_app")
    error = load_error(sample)
    assert error.key == "node.env.alpah"
    assert "did you mean `alpha`?" in str(error)


def test_missing_release_table_is_an_error(sample: Path) -> None:
    (sample / "primes.toml").write_text('[apps.alpha]\npath = "apps/alpha"\n')
    assert "missing the [release] table" in str(load_error(sample))


def test_app_path_outside_the_project_is_refused(sample: Path) -> None:
    text = '[release]\nname = "s"\nversion = "1"\n[apps.alpha]\npath = "../alpha"\n'
    (sample / "primes.toml").write_text(text)
    error = load_error(sample)
    assert error.key == "apps.alpha.path" and "relative path inside the project" in str(error)


def test_unnormalised_release_version_is_refused_with_the_normal_form(sample: Path) -> None:
    (sample / "primes.toml").write_text('[release]\nname = "s"\nversion = "1.0-rc1"\n')
    assert "write '1.0-rc1' as '1.0rc1'" in str(load_error(sample))


@pytest.mark.parametrize(
    ("spec", "low"), [(">=3.11", "3.11"), (">=3.12,<4", "3.12"), ("~=3.13.1", "3.13"), ("", "3")]
)
def test_python_min_is_the_lowest_allowed_minor(sample: Path, spec: str, low: str) -> None:
    text = f'[release]\nname = "s"\nversion = "1"\nrequires-python = "{spec}"\n'
    (sample / "primes.toml").write_text(text)
    assert config.load(sample).python_min == low


def test_a_runtime_path_outside_the_project_is_refused_with_the_editable_route(
    sample: Path,
) -> None:
    text = (sample / "primes.toml").read_text()
    (sample / "primes.toml").write_text(text.replace('path = "runtime"', 'path = "../runtime"'))
    with pytest.raises(BuildError) as caught:
        config.load(sample)
    assert str(caught.value).startswith(
        "primes.toml:8: `runtime.path`: '../runtime' must be a relative path inside the project"
    )
    assert "remove [runtime], `pip install -e` the checkout" in str(caught.value)


def test_a_release_without_a_runtime_table_has_no_runtime_source(sample: Path) -> None:
    text = (sample / "primes.toml").read_text()
    (sample / "primes.toml").write_text(text.replace('[runtime]\npath = "runtime"\n', ""))
    assert config.load(sample).runtime is None


def with_release_line(project: Path, line: str) -> None:
    """Add `line` to primes.toml's [release] table (after its requires-python line)."""
    path = project / "primes.toml"
    text = path.read_text().replace(
        'requires-python = ">=3.11"\n', f'requires-python = ">=3.11"\n{line}\n'
    )
    path.write_text(text)


def test_a_release_that_names_its_interpreter_runs_python3_minor_unless_node_names_one(
    sample: Path,
) -> None:
    with_release_line(sample, 'python = "3.12"')
    loaded = config.load(sample)
    assert (loaded.python, loaded.node["python"]) == ("3.12", "python3.12")
    path = sample / "primes.toml"
    text = path.read_text().replace("[node]\n", '[node]\npython = "/opt/py/bin/python3.12"\n')
    path.write_text(text)
    assert config.load(sample).node["python"] == "/opt/py/bin/python3.12"


def test_a_release_without_the_key_targets_no_interpreter(sample: Path) -> None:
    loaded = config.load(sample)
    assert loaded.python is None and "python" not in loaded.node


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('"3.12.1"', """`release.python`: '3.12.1' must be a Python version like "3.12\""""),
        ("3.12", "`release.python`: must be a string, not a number"),
        ('"3.9"', "`release.python`: Python 3.9 is not allowed by requires-python '>=3.11'"),
    ],
)
def test_a_bad_release_python_is_one_line_with_its_line(
    sample: Path, value: str, says: str
) -> None:
    with_release_line(sample, f"python = {value}")
    error = load_error(sample)
    assert str(error).startswith(f"primes.toml:6: {says}")
    assert "\n" not in str(error)
