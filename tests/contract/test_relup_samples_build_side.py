"""The build side of the .relup contract: the compiler still writes exactly the sample files."""

from __future__ import annotations

from pathlib import Path

import pytest
from primes_build.upgrade import plan_upgrades
from primes_runtime.formats import relup as ll

from tests.build_backend.upgrade.fakes import (
    chain_release,
    chain_sources,
    parse,
    seed_release,
    seed_sources,
    texts,
)

HERE = Path(__file__).parent


def test_seed_scripts_are_exactly_the_contract_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    scripts = texts(
        plan_upgrades(
            seed_release("2", "2"), [seed_release("1", "1")], seed_sources(tmp_path), lambda _: None
        )
    )
    assert scripts == {
        "releases/2/up_from_1.relup": (HERE / "seed_up_from_1.relup").read_text(),
        "releases/2/down_to_1.relup": (HERE / "seed_down_to_1.relup").read_text(),
    }


def test_chain_scripts_from_release_1_are_exactly_the_contract_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    earlier = [chain_release("1"), chain_release("2")]
    scripts = texts(
        plan_upgrades(chain_release("3"), earlier, chain_sources(tmp_path), lambda _: None)
    )
    assert scripts["releases/3/up_from_1.relup"] == (HERE / "chain_up_from_1.relup").read_text()
    assert scripts["releases/3/down_to_1.relup"] == (HERE / "chain_down_to_1.relup").read_text()


@pytest.mark.parametrize("sample", sorted(p.name for p in HERE.glob("*.relup")))
def test_every_sample_parses_and_renders_back_to_its_instruction_lines(sample: str) -> None:
    text = (HERE / sample).read_text()
    instructions = parse(text, origin=sample)
    body = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert render((), instructions).splitlines() == body


def test_the_samples_together_use_every_instruction() -> None:
    used = {type(i) for p in HERE.glob("*.relup") for i in parse(p.read_text(), origin=p.name)}
    assert used == {
        ll.LoadObjectCode, ll.PointOfNoReturn, ll.Suspend, ll.SwitchAppPath, ll.Load,
        ll.CodeChange, ll.Resume, ll.Remove, ll.StartApp, ll.StopApp, ll.Apply,
    }  # fmt: skip
