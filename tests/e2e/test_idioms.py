"""The idioms corpus of issue 22: after a hot upgrade, every reference runs the new code.

tests/e2e/idioms/ holds one release project, `idiomnode` with the app `idioms_app`: `v1/` is
the whole project; `v2/` holds only the modules version 2 changes (each answers "v2" where
version 1 answers "v1"); `refused/<case>/` holds the one module a release that cannot be
swapped in place changes. The modules that *hold* the changed code (a from-import, a package
`__init__`, a list of callbacks, a server's state, ...) are the same in every version: that
is what makes each idiom hard. `idioms/probe.py` asks every idiom inside the node.

One node, through the real commands only: release 1 is built with `python -m build`, unpacked
with `tar -xzf` and started; the keeper's state is filled; each refused variant is offered
with `check` and `upgrade` and must be refused with one line, the node untouched; then
release 2 is upgraded to (every idiom answers v2, `check-code` finds nothing stale) and
downgraded from (every idiom answers exactly as release 1 did). The story runs once, in a
module fixture; each test asserts one part of it, so one run shows every part.

Run it with `.venv/bin/python -m pytest -s tests/e2e/test_idioms.py`: `-s` prints how long
each step took and a table of every idiom's answer on release 1, after the upgrade and after
the downgrade, and what each variant's `check` and `upgrade` said. The later releases are
built in parallel while release 1 starts, in the world's venv (`--no-isolation`); release 1
takes the default isolated route.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.world import World, run

pytestmark = pytest.mark.e2e

CORPUS = Path(__file__).with_name("idioms")
NAME = "idiomnode"
APP = "apps/idioms_app"

ANSWERING = (
    "from .helpers import greet, in an unchanged module",
    "package __init__ re-exports a function",
    "package __init__ re-exports a class",
    "functools.partial kept in a list",
    "bound method kept in a list",
    "closure made by a changed factory",
    "state: plain class instance, method",
    "state: dataclass instance, method",
    "state: Enum member, method",
    "import pkg.mod as m; m.f()",
    "registry filled at import time",
    "decorator with functools.wraps",
    "property",
    "classmethod",
    "staticmethod",
    "nested class",
    "singledispatch, registered implementation",
    "singledispatch, default implementation",
    "ABC virtual subclass, method",
    "runtime_checkable Protocol, method",
    "context manager class",
    "@contextlib.contextmanager function",
    "module-level functools.lru_cache, primed at boot",
    "super() in a subclass method",
)
"""Idioms whose answer is the version of the code that runs ("v1" or "v2")."""

HOLDING = (
    "state: plain class instance, isinstance",
    "state: dataclass instance, isinstance",
    "state: Enum member, isinstance",
    "state: Enum member == the current module's member",
    "ABC virtual subclass, isinstance of the current ABC",
    "runtime_checkable Protocol, isinstance",
)
"""Checks against the module the node imports now, true in every release."""

KEPT_STATE: Mapping[str, object] = {
    "kept state: counter count": 3,
    "kept state: dataclass fields": [1, 2],
    "kept state: slotted value": 42,
    "kept state: generator in progress": "GEN_SUSPENDED",
    "kept state: generator's position": 1,
}
"""The keeper's state as `fill` made it; no release may change it."""


def expected(version: str) -> dict[str, object]:
    """Every answer of probe.py on a node running `version`'s code, whole."""
    return {
        **{idiom: version for idiom in ANSWERING},
        **{idiom: True for idiom in HOLDING},
        **KEPT_STATE,
    }


@dataclass(frozen=True)
class Variant:
    """A release that cannot be swapped in place: version 1 with one module changed."""

    version: str
    module: str
    object: str
    """The object the refusal must name (with the module)."""


VARIANTS = {
    "generator": Variant("1.1", "idioms_app.gens", "counting"),
    "closure": Variant("1.2", "idioms_app.factory", "tagged"),
    "slots": Variant("1.3", "idioms_app.slotted", "Cell"),
}


@dataclass(frozen=True)
class Offer:
    """What offering a variant to the running release 1 gave, and the node right after."""

    check: subprocess.CompletedProcess[str]
    upgrade: subprocess.CompletedProcess[str]
    answers: dict[str, object]
    versions: list[str]


@dataclass
class Story:
    """Everything the one node went through, as observed."""

    before: dict[str, object] = field(default_factory=dict)
    offers: dict[str, Offer] = field(default_factory=dict)
    upgrade: subprocess.CompletedProcess[str] | None = None
    after: dict[str, object] = field(default_factory=dict)
    check_code: subprocess.CompletedProcess[str] | None = None
    downgrade: subprocess.CompletedProcess[str] | None = None
    back: dict[str, object] = field(default_factory=dict)


class Node:
    """`bin/idiomnode` of a deployed tree, run from a work directory."""

    def __init__(self, root: Path, cwd: Path) -> None:
        self.script = root / "bin" / NAME
        self.cwd = cwd

    def __call__(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.script, *map(str, args)], cwd=self.cwd, capture_output=True, text=True
        )

    def ok(self, *args: str | Path) -> str:
        done = self(*args)
        assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}{done.stderr}"
        return done.stdout

    def probe(self) -> dict[str, object]:
        """Every idiom's answer, asked inside the node."""
        answers = json.loads(self.ok("eval", (CORPUS / "probe.py").read_text(encoding="utf-8")))
        assert isinstance(answers, dict)
        return answers

    def versions(self) -> list[str]:
        return [" ".join(line.split()) for line in self.ok("versions").splitlines()]


def _project(work: Path, name: str, overlay: Path, version: str) -> Path:
    """A copy of release 1's project (its dist/ too) with `overlay`'s files and `version`."""
    project = work / name
    shutil.copytree(work / "v1", project)
    for source in overlay.rglob("*.py"):
        shutil.copy(source, project / source.relative_to(overlay))
    for path in (project / APP / "pyproject.toml", project / "primes.toml"):
        text = path.read_text(encoding="utf-8")
        assert 'version = "1"' in text
        path.write_text(text.replace('version = "1"', f'version = "{version}"', 1), "utf-8")
    return project


def _build(world: World, project: Path, *options: str) -> subprocess.Popen[str]:
    """`python -m build` in `project`, started in the background."""
    return subprocess.Popen(
        [world.bin("python"), "-m", "build", *options], cwd=project, env=world.env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip


def _built(build: subprocess.Popen[str], package: Path) -> Path:
    output, _ = build.communicate(timeout=300)
    assert build.returncode == 0 and package.is_file(), f"build failed:\n{output}"
    return package


def _fill(node: Node) -> None:
    assert node.ok("rpc", "idioms_app.keeper", "fill").strip() == "filled"


def _offer(node: Node, package: Path, variant: Variant) -> Offer:
    """Offer a variant to the running release 1: `check`, then `upgrade`, then look."""
    check = node("check", "--no-keep", package)
    upgrade = node("upgrade", "--probation", "0", package)
    offer = Offer(check, upgrade, node.probe(), node.versions())
    if upgrade.returncode == 0:  # wrongly taken: put a fresh release 1 back for what follows
        node("downgrade", "1")
        node("uninstall", variant.version)
        node.ok("restart")
        _fill(node)
    return offer


@pytest.fixture(scope="module")
def story(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    """The whole story on one node (see the module's docstring); the node is stopped after."""
    started = time.monotonic()
    marks: list[str] = []

    def mark(what: str) -> None:
        marks.append(f"{what} {time.monotonic() - started:.1f} s")

    work = tmp_path_factory.mktemp("idioms")
    shutil.copytree(CORPUS / "v1", work / "v1")
    one = _built(_build(world, work / "v1"), work / "v1" / "dist" / f"{NAME}_1.tar.gz")
    mark("release 1 built")

    # The later releases build while release 1 is deployed, started and filled; in the
    # world's venv (release 1 took the default isolated route, which gives the same tree).
    overlays = {name: (CORPUS / "refused" / name, v.version) for name, v in VARIANTS.items()}
    overlays["v2"] = (CORPUS / "v2", "2")
    builds = {
        name: (_build(world, _project(work, name, overlay, version), "--no-isolation"), version)
        for name, (overlay, version) in overlays.items()
    }

    root = work / "srv" / NAME
    root.mkdir(parents=True)
    run(["tar", "-xzf", one, "-C", root], cwd=work)
    node = Node(root, work)
    story = Story()
    try:
        node.ok("start")
        _fill(node)
        story.before = node.probe()
        mark("release 1 started and filled")
        packages = {
            name: _built(build, work / name / "dist" / f"{NAME}_{version}.tar.gz")
            for name, (build, version) in builds.items()
        }
        mark("releases 1.1, 1.2, 1.3 and 2 built")

        for name, variant in VARIANTS.items():
            story.offers[name] = _offer(node, packages[name], variant)
        mark("variants offered")

        story.upgrade = node("upgrade", "--probation", "0", packages["v2"])
        story.after = node.probe()
        story.check_code = node("check-code", "--json")
        mark("upgraded to 2")
        story.downgrade = node("downgrade", "1")
        story.back = node.probe()
        mark("downgraded to 1")
        yield story
    finally:
        node("stop")
        for build, _ in builds.values():
            if build.poll() is None:  # its own session: the group is the build and its children
                os.killpg(build.pid, signal.SIGKILL)
                build.wait()
        print("\nidioms story:", ", ".join(marks))
        print(_table(story))


def _table(story: Story) -> str:
    """Each idiom's answer on release 1, after the upgrade and after the downgrade; then what
    each variant's check and upgrade said (shown by `pytest -s`)."""
    rows = [f"{'idiom':<52} {'release 1':>13} {'upgraded':>13} {'downgraded':>13}"]
    phases = (story.before, story.after, story.back)
    for idiom in dict.fromkeys(idiom for answers in phases for idiom in answers):
        cells = (str(answers.get(idiom, "-"))[:13] for answers in phases)
        rows.append(f"{idiom[:52]:<52} " + " ".join(f"{c:>13}" for c in cells))
    for name, offer in story.offers.items():
        for command in ("check", "upgrade"):
            done = getattr(offer, command)
            said = (done.stderr.strip() or done.stdout.strip()).splitlines()
            rows.append(f"{name} {command}: exit {done.returncode}: {said[0] if said else ''}")
    return "\n".join(rows)


def _differences(got: Mapping[str, object], want: Mapping[str, object]) -> str:
    """One line per idiom whose answer is not the one wanted."""
    lines = [
        f"  {idiom}: {got.get(idiom, '<not asked>')!r}, wanted {wanted!r}"
        for idiom, wanted in want.items()
        if got.get(idiom) != wanted
    ]
    lines += [f"  {idiom}: {got[idiom]!r}, not expected" for idiom in got.keys() - want.keys()]
    return f"{len(lines)} idiom(s) answered otherwise:\n" + "\n".join(lines)


def test_release_1_answers_v1_for_every_idiom_before_any_upgrade(story: Story) -> None:
    assert story.before == expected("v1"), _differences(story.before, expected("v1"))


def _one_line_naming(stderr: str, variant: Variant) -> bool:
    lines = stderr.strip().splitlines()
    return len(lines) == 1 and variant.module in lines[0] and variant.object in lines[0]


@pytest.mark.parametrize("case", list(VARIANTS))
def test_a_variant_that_cannot_be_swapped_in_place_is_refused_and_the_node_stays_on_v1(
    story: Story, case: str
) -> None:
    variant, offer = VARIANTS[case], story.offers[case]
    seen = {
        "check refused": offer.check.returncode != 0,
        "check says one line naming module and object": _one_line_naming(
            offer.check.stderr, variant
        ),
        "upgrade refused": offer.upgrade.returncode != 0,
        "upgrade says one line naming module and object": _one_line_naming(
            offer.upgrade.stderr, variant
        ),
        "idioms answering otherwise than release 1 after it": sorted(
            idiom for idiom, answer in expected("v1").items() if offer.answers.get(idiom) != answer
        ),
        "versions after it": offer.versions,
    }
    assert seen == {
        "check refused": True,
        "check says one line naming module and object": True,
        "upgrade refused": True,
        "upgrade says one line naming module and object": True,
        "idioms answering otherwise than release 1 after it": [],
        "versions after it": ["1 permanent"],
    }, (
        f"check ({offer.check.returncode}): {offer.check.stdout}{offer.check.stderr}\n"
        f"upgrade ({offer.upgrade.returncode}): {offer.upgrade.stdout}{offer.upgrade.stderr}"
    )


def test_after_the_upgrade_to_2_every_idiom_answers_v2(story: Story) -> None:
    assert story.upgrade is not None
    assert story.upgrade.returncode == 0, story.upgrade.stdout + story.upgrade.stderr
    assert story.after == expected("v2"), _differences(story.after, expected("v2"))


def test_after_the_upgrade_to_2_check_code_finds_no_stale_object(story: Story) -> None:
    assert story.check_code is not None
    done = story.check_code
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert (report["release"], report["stale"]) == ("2", []), report


def test_after_the_downgrade_to_1_every_idiom_answers_exactly_as_release_1_did(
    story: Story,
) -> None:
    assert story.downgrade is not None
    assert story.downgrade.returncode == 0, story.downgrade.stdout + story.downgrade.stderr
    assert story.back == expected("v1"), _differences(story.back, expected("v1"))
