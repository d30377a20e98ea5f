"""Issue 22's corpus: real PyPI library bumps, each upgraded and downgraded in a running node.

For each bump in tests/e2e/corpus.py, end to end through the real commands: `primes new`
makes a project whose app depends on the library (old version pinned), imports it and keeps
one object computed with it in the store's state; `primes lock`, `python -m build`,
`tar -xzf`, `bin/NAME start`; then the new version pinned, app and release bumped to 2,
`primes lock`, `python -m build`, `bin/NAME upgrade dist/NAME_2.tar.gz`; checks inside the
node; `bin/NAME downgrade 1`; the same checks for the old version.

The checks inside the node, after each step:

1. `bin/NAME check-code --json`: `stale` must be empty (exit 0) and `release` the expected one;
2. the bump's probes (tests/e2e/corpus.py), evaluated with `bin/NAME eval`, and two of every
   bump: `importlib.metadata.version` of the distribution, and every module in sys.modules
   whose file is under the tree's lib/ is under a dir of the running release (its apps', its
   libraries', its runtime's).

Each step (upgrade, downgrade) ends **consistent** (every probe passes) or **refused**: a
non-zero exit with one line before the point of no return (`--json`'s failure has a null
`report`), the node still running the release it ran as permanent, answering, keeping the same
object in its state and passing every probe for that release. A build that refuses version 2
with one ERROR line counts as refused (nothing reached the node). A step may also end
**rolled back**: the install's own check that no old code runs after the swap failed it after
the point of no return and undid it, with the same proofs as a refusal (one line, the old
release permanent and answering, the same state, every probe of the old release passing);
the table says so apart, since the node ran the new code for a moment. Anything else fails
the bump's test: **mixed** (exit 0, a probe wrong), **broken** (the node was changed, or the
message was not one line). So does check-code answering anything but an empty list, at any
check, including `unknown command` (its own column in the table).

Wheels are fetched from PyPI once, into a cache dir outside the repository
(`PRIMES_CORPUS_CACHE`, default `~/.cache/primes-corpus`); every command then runs offline:
`primes lock --no-index --find-links <the bump's wheels>`, and the world of tests/e2e/world.py
(PIP_NO_INDEX, its local index). The builds are `python -m build --no-isolation --wheel` in the
venv that has primes-build: the wheel hook writes the release package straight from the
project (the default route's sdist, extracted again, adds two hook processes a build and is
covered by the seed story and the walkthrough; the isolated route installs the same
primes-build from the same index into a fresh env, 4 s more a build;
`PRIMES_CORPUS_ISOLATED=1` takes the whole default route). Two bumps run at a
time (`PRIMES_CORPUS_JOBS`); `pytest -s` prints the table. The upgrades run with
`--probation 0`: the probation window watches for crashes, which these checks do not need, and
would add 5 s to every bump.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.corpus import BUMPS, Bump
from tests.e2e.world import World, cached, shared_world

pytestmark = pytest.mark.e2e

JOBS = int(os.environ.get("PRIMES_CORPUS_JOBS", "2"))
ISOLATED = os.environ.get("PRIMES_CORPUS_ISOLATED", "") == "1"
"""Build in pypa/build's default isolated route (5.6 s a build here) rather than with
--no-isolation in the venv that has primes-build (1.3 s): the same backend from the same
index, 34 builds."""
COMMAND_TIMEOUT = 300.0

# --------------------------------------------------------------------------- the wheel cache


def bump_wheelhouse(bump: Bump, top: Path) -> Path:
    """The old and the new version's wheels and what each needs."""
    name = f"{bump.dist.lower().replace('-', '_')}-{bump.old}-{bump.new}"
    return cached(name, [[f"{bump.dist}=={bump.old}"], [f"{bump.dist}=={bump.new}"]], top)


# --------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class Done:
    """One command's exit code and output."""

    argv: tuple[str, ...]
    code: int
    out: str
    err: str
    seconds: float

    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]

    def shown(self) -> str:
        return f"{' '.join(self.argv)} -> {self.code}\n{self.out}{self.err}"


def command(argv: Sequence[str | Path], cwd: Path, env: dict[str, str]) -> Done:
    started = time.monotonic()
    done = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=COMMAND_TIMEOUT,
    )
    seconds = time.monotonic() - started
    return Done(tuple(str(a) for a in argv), done.returncode, done.stdout, done.stderr, seconds)


def kind(argv: Sequence[str]) -> str:
    """What a command is, for the time table: `build`, `lock`, `eval`, `upgrade`, ..."""
    words = [Path(argv[0]).name, *argv[1:]]
    if words[0].startswith("python") and words[1:3] == ["-m", "build"]:
        return "build"
    return words[1] if words[0] in ("primes",) or words[0].startswith("c_") else words[0]


class HarnessError(Exception):
    """A step that must work whatever the runtime does (new, lock, build 1, start) did not."""


def must(done: Done) -> Done:
    if done.code != 0:
        raise HarnessError(done.shown())
    return done


# --------------------------------------------------------------------------- probing the node

PROBE = '''
import importlib, importlib.metadata, json, sys
ROOT, LIB, VERSION, DIST, DIRS = {root!r}, {lib!r}, {version!r}, {dist!r}, {dirs!r}
APP = {app!r}


def new(obj):
    """True if `obj`'s code is in LIB, else where it is (relative to ROOT)."""
    for attr in ("fget", "__func__"):
        obj = getattr(obj, attr, obj)
    code = getattr(obj, "__code__", None)
    if code is None:
        return f"no Python code: {{obj!r}}"
    file = code.co_filename
    return True if file.startswith(LIB) else file.removeprefix(ROOT + "/")


def refused_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def modules_of_the_running_release():
    wrong = []
    for name, module in sys.modules.copy().items():
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.startswith(ROOT + "/lib/"):
            if not any(file.startswith(d) for d in DIRS):
                wrong.append(f"{{name}} from {{file.removeprefix(ROOT + '/')}}")
    return True if not wrong else f"{{len(wrong)}} wrong: " + ", ".join(sorted(wrong)[:3])


_uses = sys.modules[APP + ".uses"]
_ns = dict(vars(_uses))
_ns.update(
    kept=sys.modules[APP + ".store"].get("kept"), new=new, refused_port=refused_port,
    ROOT=ROOT, LIB=LIB, VERSION=VERSION, DIST=DIST, sys=sys, importlib=importlib,
    modules_of_the_running_release=modules_of_the_running_release,
)
exec({setup!r}, _ns)
_probes = {probes!r}
_probes["importlib.metadata.version"] = "importlib.metadata.version(DIST) == VERSION"
_probes["every loaded module from the running release"] = "modules_of_the_running_release()"
_probes["the app's compute() runs"] = "compute() is not None"
_out = {{"fingerprint": repr(_ns["kept"])}}
for _name, _expr in _probes.items():
    try:
        _value = eval(_expr, _ns)
        _out[_name] = True if _value is True else repr(_value)[:240]
    except Exception as _exc:
        _out[_name] = (f"{{type(_exc).__name__}}: " + " ".join(str(_exc).split()))[:240]
print(json.dumps(_out))
'''


@dataclass
class Check:
    """What the node answered for one version: probes, check-code, and the kept object."""

    version: str
    probes: dict[str, object]
    check_code: str
    """"empty", or what was wrong (stale objects, unknown command, a broken contract)."""
    fingerprint: str

    @property
    def wrong(self) -> dict[str, object]:
        return {k: v for k, v in self.probes.items() if v is not True}

    @property
    def ok(self) -> bool:
        """Every probe passed (check-code is judged on its own: Record.check_code)."""
        return not self.wrong

    def summary(self) -> str:
        return "; ".join(f"{name}: {value}" for name, value in self.wrong.items())


@dataclass
class Step:
    """How one step (upgrade or downgrade) ended."""

    outcome: str
    """consistent, refused, mixed, rolled back or broken."""
    line: str = ""
    """The refusal's line, or the command's failure."""
    check: Check | None = None

    def cell(self) -> str:
        if self.outcome == "refused":
            return f"refused: {self.line}"
        if self.outcome == "mixed" and self.check is not None:
            wrong = len(self.check.wrong)
            total = len(self.check.probes)
            return f"mixed: {wrong} of {total} probes wrong"
        if self.outcome in ("broken", "rolled back"):
            return f"{self.outcome}: {self.line}"
        return self.outcome

    @property
    def acceptable(self) -> bool:
        """Consistent, or refused with the node untouched: before the point of no return, or
        after it by the install's own check that no old code runs (the whole install rolled
        back, release 1 current; check-code then must be empty too, see Record)."""
        return self.outcome in ("consistent", "refused", "rolled back")


@dataclass
class Record:
    bump: Bump
    up: Step | None = None
    down: Step | None = None
    error: str = ""
    """A harness failure (a step that had to work did not)."""
    checks: list[tuple[str, Check]] = field(default_factory=list)
    """Every check made in the node, with when it was made."""
    seconds: float = 0.0
    times: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def acceptable(self) -> bool:
        steps = [s for s in (self.up, self.down) if s is not None]
        ended = not self.error and self.up is not None and all(s.acceptable for s in steps)
        return ended and self.check_code() == "empty"

    def check_code(self) -> str:
        """`empty` when check-code found nothing stale every time it ran, else what it said."""
        said = {c.check_code for _, c in self.checks}
        if not said:
            return "not run"
        if len(said) == 1:
            return said.pop()
        return "; ".join(f"{when}: {c.check_code}" for when, c in self.checks)


class Node:
    """One library's project and deployed tree."""

    def __init__(self, bump: Bump, world: World, top: Path, wheels: Path) -> None:
        self.bump = bump
        self.world = world
        self.wheels = wheels
        self.work = top / "work"
        self.project = self.work / bump.release
        self.app = f"{bump.release}_app"
        self.root = top / "srv"
        self.bin = self.root / "bin" / bump.release
        self.env = dict(world.env)
        self.env["PRIMES_PYTHON"] = node_python()
        self.times: dict[str, float] = {}
        """Seconds spent per kind of command."""

    def run(self, *argv: str | Path, cwd: Path | None = None) -> Done:
        done = command(argv, cwd or self.work, self.env)
        what = kind(done.argv)
        self.times[what] = self.times.get(what, 0.0) + done.seconds
        return done

    def node(self, *argv: str | Path) -> Done:
        return self.run(self.bin, *argv)

    # the project

    def create(self) -> None:
        self.work.mkdir(parents=True)
        must(self.run(self.world.bin("primes"), "new", self.bump.release))
        package = self.project / "apps" / self.app / self.app
        doc = f'"""What {self.app} uses {self.bump.dist} for (tests/e2e/corpus.py)."""\n\n'
        (package / "uses.py").write_text(doc + self.bump.uses, encoding="utf-8")
        store = package / "store.py"
        text = store.read_text(encoding="utf-8")
        before = 'def init(args: object) -> State:\n    """An empty table."""\n    return {}\n'
        after = (
            "def init(args: object) -> State:\n"
            '    """The object uses.compute() made, kept under "kept"."""\n'
            '    return {"kept": uses.compute()}\n'
        )
        imports = "from primes_runtime.server import Reply\n"
        assert before in text and imports in text, "primes new's store.py changed"
        text = text.replace(before, after).replace(imports, f"{imports}\nfrom . import uses\n")
        store.write_text(text, encoding="utf-8")
        self.pin(self.bump.old)

    def pin(self, version: str) -> None:
        path = self.project / "apps" / self.app / "pyproject.toml"
        text = path.read_text(encoding="utf-8")
        old = f'"{self.bump.dist}=={self.bump.old}"'
        if old in text:
            text = text.replace(old, f'"{self.bump.dist}=={version}"')
        else:
            plain = 'dependencies = ["primes-runtime"]'
            assert plain in text, "primes new's app pyproject.toml changed"
            text = text.replace(
                plain, f'dependencies = ["primes-runtime", "{self.bump.dist}=={version}"]'
            )
        path.write_text(text, encoding="utf-8")

    def version_2(self) -> None:
        self.pin(self.bump.new)
        if self.bump.restart:
            path = self.project / "apps" / self.app / "pyproject.toml"
            restart = f'[{{ restart_application = "{self.app}" }}]'
            declared = f'\n[tool.primes.app.upgrade."2"]\nup_from."1" = {restart}\n'
            declared += f'down_to."1" = {restart}\n'
            path.write_text(path.read_text(encoding="utf-8") + declared, encoding="utf-8")
        for path in (
            self.project / "apps" / self.app / "pyproject.toml",
            self.project / "primes.toml",
        ):
            text = path.read_text(encoding="utf-8")
            assert 'version = "1"' in text
            path.write_text(text.replace('version = "1"', 'version = "2"', 1), encoding="utf-8")

    def lock(self) -> Done:
        primes = self.world.bin("primes")
        return self.run(primes, "lock", "--no-index", "--find-links", self.wheels, cwd=self.project)

    def build(self) -> Done:
        isolation = () if ISOLATED else ("--no-isolation", "--wheel")
        return self.run(self.world.bin("python"), "-m", "build", *isolation, cwd=self.project)

    # the node

    def deploy(self) -> None:
        self.root.mkdir(parents=True)
        package = self.project / "dist" / f"{self.bump.release}_1.tar.gz"
        must(self.run("tar", "-xzf", package, "-C", self.root))
        must(self.node("start"))

    def stop(self) -> None:
        if self.bin.exists():
            self.node("stop")

    def dirs(self, vsn: str) -> tuple[str, list[str]]:
        """The library's dir in release `vsn`, and every code dir of that release."""
        manifest = json.loads((self.root / "releases" / vsn / "release.json").read_text())
        entries = [*manifest["apps"], *manifest["libraries"], manifest["runtime"]]
        dirs = [f"{self.root / e['path']}/" for e in entries if "path" in e]
        wanted = canonical(self.bump.dist)
        lib = [e for e in manifest["libraries"] if canonical(e["name"]) == wanted]
        assert len(lib) == 1, f"release {vsn} has no library {self.bump.dist}"
        return f"{self.root / lib[0]['path']}/", dirs

    def check(self, vsn: str, library_version: str) -> Check:
        lib, dirs = self.dirs(vsn)
        source = PROBE.format(
            root=str(self.root),
            lib=lib,
            version=library_version,
            dist=self.bump.dist,
            dirs=dirs,
            app=self.app,
            setup=self.bump.setup,
            probes=self.bump.probes,
        )
        done = self.node("eval", source)
        if done.code != 0 or not done.out.strip():
            probes: dict[str, object] = {"probe ran": done.err.strip() or f"exit {done.code}"}
            fingerprint = ""
        else:
            answer = json.loads(done.out.strip().splitlines()[-1])
            fingerprint = str(answer.pop("fingerprint"))
            probes = answer
        return Check(vsn, probes, self.check_code(vsn), fingerprint)

    def checked(self, record: Record, when: str, vsn: str, library_version: str) -> Check:
        """`check`, remembered in the record."""
        made = self.check(vsn, library_version)
        record.checks.append((when, made))
        return made

    def check_code(self, vsn: str) -> str:
        done = self.node("check-code", "--json")
        if "unknown command 'check-code'" in done.err:
            return "unknown command"
        try:
            answer = json.loads(done.out)
        except json.JSONDecodeError:
            return f"no JSON (exit {done.code}): {(done.out + done.err).strip()[:200]}"
        stale = answer.get("stale")
        if not isinstance(stale, list) or answer.get("release") != vsn:
            return f"unexpected answer (exit {done.code}): {done.out.strip()[:200]}"
        if (done.code == 0) != (not stale):
            return f"exit {done.code} with {len(stale)} stale"
        text = self.node("check-code")  # one line per stale object (one line saying none)
        if text.code != done.code or len(text.out.splitlines()) != max(len(stale), 1):
            return (
                f"its text form (exit {text.code}, {len(text.out.splitlines())} lines) "
                f"disagrees with --json (exit {done.code}, {len(stale)} stale)"
            )
        if not stale:
            return "empty"
        shown = [f"{s.get('kind')} {s.get('object')} ({s.get('file')})" for s in stale[:3]]
        return f"{len(stale)} stale: " + ", ".join(shown)

    def permanent_is(self, vsn: str) -> str:
        """'' when `vsn` is the node's current and permanent release, else what is."""
        done = self.node("versions", "--json")
        try:
            releases = {r["version"]: r["status"] for r in json.loads(done.out)["releases"]}
        except (json.JSONDecodeError, KeyError, TypeError):
            return f"versions --json: {done.shown()}"
        running = {v: s for v, s in releases.items() if s in ("current", "permanent")}
        return "" if running == {vsn: "permanent"} else f"releases {releases}"


def canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def node_python() -> str:
    """The interpreter behind this one (not a version manager's shim): what the nodes run."""
    exact = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    return str(exact if exact.exists() else Path(sys.executable).resolve())


@dataclass(frozen=True)
class Stay:
    """Where a refused step must leave the node: the release and library version it runs,
    and the kept object's fingerprint."""

    vsn: str
    library_version: str
    fingerprint: str


def refusal(done: Done, node: Node, stay: Stay, record: Record) -> Step:
    """A build, upgrade or downgrade said no: **refused** if it said so in one line before the
    point of no return (the JSON failure's `report` is null) and left the node as it was;
    **rolled back** if the install failed after the point of no return and was undone (not a
    refusal: the node ran the new code for a while); **broken** if the node was changed."""
    if done.argv[1] == "-m":  # python -m build
        lines = errors_of_build(done)
        after_ponr = False
    else:
        lines, after_ponr = failure_of(done, node.bump.release)
    line = lines[0] if lines else f"exit {done.code} with no message"
    problems = []
    if len(lines) != 1:
        problems.append(f"{len(lines)} lines of error")
    if (running := node.permanent_is(stay.vsn)) != "":
        problems.append(running)
    if node.node("ping").out.strip() != "pong":
        problems.append("no pong")
    when = f"at {stay.vsn} after the refused {kind(done.argv)}"
    after = node.checked(record, when, stay.vsn, stay.library_version)
    if after.fingerprint != stay.fingerprint:
        problems.append(f"kept {stay.fingerprint} became {after.fingerprint}")
    if not after.ok:
        problems.append(f"at version {stay.vsn} again: {after.summary()}")
    if problems:
        return Step("broken", f"{line} [{'; '.join(problems)}]", after)
    return Step("rolled back" if after_ponr else "refused", line, after)


def failure_of(done: Done, name: str) -> tuple[list[str], bool]:
    """A failed `upgrade --json` or `downgrade --json`: its error lines (the JSON's `error`,
    which stderr must say alone, after the node's name) and whether it failed after the point
    of no return."""
    try:
        answer = json.loads(done.out)
    except json.JSONDecodeError:
        return [*done.lines(), f"no JSON on stdout: {done.out.strip()[:200]}"], False
    error = str(answer.get("error", ""))
    lines = error.splitlines() or [f"no error in {done.out.strip()[:200]}"]
    said = [line.removeprefix(f"{name}: ") for line in done.lines()]
    lines += [f"stderr: {line}" for line in said if line != error]
    return lines, answer.get("report") is not None


def errors_of_build(done: Done) -> list[str]:
    """The backend's ERROR lines (not pypa/build's own `ERROR Backend subprocess exited ...`)."""
    lines = (done.out + done.err).splitlines()
    return [s for s in lines if s.startswith("ERROR") and not s.startswith("ERROR Backend ")]


def exercise(bump: Bump, world: World, top: Path, wheels: Path) -> Record:
    """The bump end to end; always stops its node."""
    record = Record(bump)
    started = time.monotonic()
    node = Node(bump, world, top, wheels)
    try:
        node.create()
        must(node.lock())
        must(node.build())
        node.deploy()
        before = node.checked(record, "at 1 before the upgrade", "1", bump.old)
        if before.wrong:  # the probes must be right for version 1 before they can blame anyone
            raise HarnessError(f"version 1 before the upgrade: {before.summary()}")
        at_1 = Stay("1", bump.old, before.fingerprint)
        node.version_2()
        must(node.lock())
        built = node.build()
        if built.code != 0:
            record.up = refusal(built, node, at_1, record)
            record.up.line = f"build: {record.up.line}"
            return record
        package = node.project / "dist" / f"{bump.release}_2.tar.gz"
        upgraded = node.node("upgrade", "--probation", "0", "--json", package)
        if upgraded.code != 0:
            record.up = refusal(upgraded, node, at_1, record)
            return record
        after = node.checked(record, "at 2 after the upgrade", "2", bump.new)
        record.up = Step("consistent" if after.ok else "mixed", check=after)
        downgraded = node.node("downgrade", "--json", "1")
        if downgraded.code != 0:
            record.down = refusal(downgraded, node, Stay("2", bump.new, after.fingerprint), record)
            return record
        again = node.checked(record, "at 1 after the downgrade", "1", bump.old)
        record.down = Step("consistent" if again.ok else "mixed", check=again)
        return record
    except (HarnessError, AssertionError, subprocess.TimeoutExpired) as exc:
        record.error = str(exc)
        return record
    finally:
        node.stop()
        record.seconds = time.monotonic() - started
        record.times = node.times


# --------------------------------------------------------------------------- the tests

TEST_NAME = "test_a_library_bump_upgrades_and_downgrades_consistently_or_is_refused_untouched"


def table(records: Sequence[Record], wall: float) -> str:
    rows = [("library", "bump", "upgrade", "downgrade", "check-code", "s")]
    for r in records:
        up = r.up.cell() if r.up else f"harness: {r.error.splitlines()[0][:80] if r.error else '?'}"
        down = r.down.cell() if r.down else "-"
        bump = r.bump.label.removeprefix(f"{r.bump.dist} ")
        rows.append((r.bump.dist, bump, up, down, r.check_code()[:60], f"{r.seconds:.0f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    details = []
    for r in records:
        for name, step in (("upgrade", r.up), ("downgrade", r.down)):
            if step is not None and step.check is not None and step.check.wrong:
                details.append(f"{r.bump.label}, {name}: {step.check.summary()}")
        if r.check_code() not in ("empty", "not run"):
            details.append(f"{r.bump.label}, check-code: {r.check_code()}")
        details += [f"{r.bump.label}: {note}" for note in r.notes]
        if r.error:
            details.append(f"{r.bump.label}: harness: {r.error}")
    spent: dict[str, float] = {}
    for r in records:
        for what, seconds in r.times.items():
            spent[what] = spent.get(what, 0.0) + seconds
    ranked = sorted(spent.items(), key=lambda kv: -kv[1])
    details.append("seconds by command: " + ", ".join(f"{k} {v:.1f}" for k, v in ranked))
    ok = sum(r.acceptable for r in records)
    head = f"library corpus: {len(records)} bumps, {ok} consistent or refused, wall {wall:.1f} s"
    return "\n".join([head, *lines, "", *details])


@pytest.fixture(scope="module")
def corpus(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Record]]:
    """Every selected bump, run JOBS at a time once for the module; prints the table."""
    started = time.monotonic()
    selected = [
        item.callspec.params["bump"]
        for item in request.session.items
        if getattr(item, "originalname", "") == TEST_NAME and hasattr(item, "callspec")
    ]
    top = tmp_path_factory.mktemp("corpus")
    wheels = {bump.label: bump_wheelhouse(bump, top) for bump in selected}
    world = shared_world(tmp_path_factory)
    tops = {bump.label: top / bump.slug for bump in selected}
    try:
        with ThreadPoolExecutor(max_workers=JOBS) as pool:
            futures = [
                pool.submit(exercise, b, world, tops[b.label], wheels[b.label]) for b in selected
            ]
            records = [f.result() for f in futures]
        wall = time.monotonic() - started
        print("\n" + table(records, wall))
        yield {r.bump.label: r for r in records}
    finally:  # exercise stops each node it started; this catches what it could not
        for place in tops.values():
            for script in (place / "srv" / "bin").glob("*"):
                subprocess.run([script, "stop"], capture_output=True, check=False, timeout=60)


@pytest.mark.parametrize("bump", BUMPS, ids=[b.label for b in BUMPS])
def test_a_library_bump_upgrades_and_downgrades_consistently_or_is_refused_untouched(
    bump: Bump, corpus: dict[str, Record]
) -> None:
    record = corpus[bump.label]
    if not record.acceptable:
        pytest.fail(table([record], record.seconds), pytrace=False)


def test_the_corpus_has_15_popular_bumps_among_them_majors_and_compiled_extensions() -> None:
    labels = [b.label for b in BUMPS]
    assert len(set(labels)) == len(labels) >= 15
    majors = [b for b in BUMPS if b.old.split(".")[0] != b.new.split(".")[0]]
    assert len(majors) >= 2
    compiled = {"markupsafe", "pyyaml", "charset-normalizer", "msgpack", "tomli"}
    assert compiled <= {b.dist for b in BUMPS}
    assert any(b.restart for b in BUMPS)
