"""The build side of the .relup contract: the compiler still writes exactly the sample files."""

from __future__ import annotations

from pathlib import Path

import pytest
from primes_build.upgrade import plan_upgrades
from primes_runtime.formats import relup

from tests.build_backend.upgrade.fakes import (
    chain_release,
    chain_sources,
    seed_release,
    seed_sources,
    texts,
)

HERE = Path(__file__).parent / "relup"
CURRENT = HERE / f"v{relup.FORMAT}"
BUILT = sorted(
    [p for p in CURRENT.glob("*.relup") if p.name != "edges.relup"]
    + list((HERE.parent / "build").glob("*.relup"))
)


def test_seed_scripts_are_exactly_the_contract_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    scripts = plan_upgrades(
        seed_release("2", "2"), [seed_release("1", "1")], seed_sources(tmp_path), lambda _: None
    )
    assert texts(scripts) == {
        "releases/2/up_from_1.relup": (CURRENT / "seed_up_from_1.relup").read_text(),
        "releases/2/down_to_1.relup": (CURRENT / "seed_down_to_1.relup").read_text(),
    }


def test_chain_scripts_from_release_1_are_exactly_the_contract_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    earlier = [chain_release("1"), chain_release("2")]
    scripts = texts(
        plan_upgrades(chain_release("3"), earlier, chain_sources(tmp_path), lambda _: None)
    )
    assert scripts["releases/3/up_from_1.relup"] == (CURRENT / "chain_up_from_1.relup").read_text()
    assert scripts["releases/3/down_to_1.relup"] == (CURRENT / "chain_down_to_1.relup").read_text()


@pytest.mark.parametrize("sample", BUILT, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_built_sample_renders_back_byte_for_byte(sample: Path) -> None:
    text = sample.read_text()
    script = relup.parse(text, sample)
    comments = [line[2:] for line in text.splitlines()[1:] if line.startswith("# ")]
    assert relup.render(script, comments) == text


def test_the_format_1_samples_hold_the_same_instructions_as_their_format_2_rebuilds() -> None:
    for old in sorted((HERE / "v1").glob("*_*_*.relup")):
        new = CURRENT / old.name
        if new.exists():
            assert relup.read(old).instructions == relup.read(new).instructions, old.name


def test_the_samples_together_use_every_instruction() -> None:
    used = {type(i) for p in HERE.glob("v*/*.relup") for i in relup.read(p).instructions}
    assert used == {
        relup.LoadObjectCode, relup.PointOfNoReturn, relup.Suspend, relup.SwitchAppPath,
        relup.Load, relup.CodeChange, relup.Resume, relup.Remove, relup.StartApp,
        relup.StopApp, relup.Apply,
    }  # fmt: skip
