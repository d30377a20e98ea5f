"""Tests of primes_build.project.order: start order, apps needed but not listed, cycles."""

from __future__ import annotations

from pathlib import Path

import pytest
from primes_build.errors import BuildError
from primes_build.project import config
from primes_build.project.appmeta import read_app
from primes_build.project.order import start_order

from tests.build_backend.helpers import use_broken


def ordered(project: Path) -> list[str]:
    return [m.name for m in start_order([read_app(s) for s in config.load(project).apps])]


def test_each_app_starts_after_the_apps_it_needs(sample: Path) -> None:
    text = (sample / "primes.toml").read_text()
    alpha = '[apps.alpha]\npath = "apps/alpha"\n\n'
    (sample / "primes.toml").write_text(text.replace(alpha, "") + "\n" + alpha)
    assert ordered(sample) == ["alpha", "beta"]


def test_an_app_needed_but_not_listed_is_named_with_its_file(sample: Path) -> None:
    use_broken(sample, "needed_app_not_listed")
    with pytest.raises(BuildError) as caught:
        ordered(sample)
    message = str(caught.value)
    assert message.startswith("apps/beta/pyproject.toml:16: `tool.primes.app.needs`: ")
    assert "needs `alpha`, which primes.toml does not list" in message


def test_a_dependency_cycle_is_shown_as_a_path(sample: Path) -> None:
    use_broken(sample, "dependency_cycle")
    with pytest.raises(BuildError, match="dependency cycle between apps: gamma -> delta -> gamma"):
        ordered(sample)
