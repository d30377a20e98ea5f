"""Tests of primes_build.project.appmeta: reading an app's [project] and [tool.primes.app]."""

from __future__ import annotations

from pathlib import Path

import pytest
from primes_build.errors import BuildError
from primes_build.project import config
from primes_build.project.appmeta import read_app


def alpha_pyproject(sample: Path) -> Path:
    return sample / "apps" / "alpha" / "pyproject.toml"


def read_alpha(sample: Path) -> object:
    return read_app(config.load(sample).apps[0])


def test_app_table_is_read(sample: Path) -> None:
    meta = read_app(config.load(sample).apps[1])
    assert (meta.name, meta.start, meta.stop, meta.needs) == (
        "beta",
        "beta.app:start",
        None,
        ("alpha",),
    )
    assert meta.description == "Sample app beta."
    assert meta.env == {"level": 1}


def test_unknown_app_key_suggests_the_close_one(sample: Path) -> None:
    path = alpha_pyproject(sample)
    path.write_text(path.read_text().replace("needs = []", "neds = []"))
    with pytest.raises(BuildError) as caught:
        read_alpha(sample)
    assert caught.value.file == "apps/alpha/pyproject.toml"
    assert caught.value.key == "tool.primes.app.neds"
    assert "did you mean `needs`?" in str(caught.value)


def test_start_must_be_module_colon_function(sample: Path) -> None:
    path = alpha_pyproject(sample)
    path.write_text(path.read_text().replace('"alpha.app:start"', '"alpha.app.start"'))
    with pytest.raises(BuildError, match='must be "module:function"') as caught:
        read_alpha(sample)
    assert caught.value.key == "tool.primes.app.start"
    assert caught.value.line == 15


def test_project_name_must_match_the_primes_toml_key(sample: Path) -> None:
    path = alpha_pyproject(sample)
    path.write_text(path.read_text().replace('name = "alpha"', 'name = "alpha-two"'))
    with pytest.raises(BuildError, match=r"app `alpha_two` but primes\.toml lists it as `alpha`"):
        read_alpha(sample)


def test_missing_app_table_says_what_to_add(sample: Path) -> None:
    path = alpha_pyproject(sample)
    path.write_text(path.read_text().split("[tool.primes.app]")[0])
    with pytest.raises(BuildError, match=r"missing the \[tool\.primes\.app\] table"):
        read_alpha(sample)


def test_a_malformed_upgrade_declaration_is_refused_even_before_it_is_used(sample: Path) -> None:
    path = alpha_pyproject(sample)
    path.write_text(
        path.read_text()
        + '\n[tool.primes.app.upgrade."2"]\nup_from."1" = [ { updte = "alpha.x" } ]\n'
    )
    with pytest.raises(BuildError, match="unknown instruction `updte`") as caught:
        read_alpha(sample)
    assert caught.value.file == "apps/alpha/pyproject.toml"
    assert caught.value.line == 20
