"""Small in-memory releases (manifest + sources) and app source dirs for the upgrade tests."""

from __future__ import annotations

import hashlib
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from primes_build.upgrade import Script
from primes_build.upgrade.release_view import ReleaseView
from primes_runtime.formats import relup

#: The release.json sha256 the test scripts name as the release they were built against.
AGAINST_SHA256 = hashlib.sha256(b"the earlier release.json").hexdigest()

AppSpec = tuple[str, Mapping[str, str]]  # (app version, {module: source})


def release(
    version: str,
    apps: Mapping[str, AppSpec],
    *,
    name: str = "primenode",
    extensions: Mapping[str, Mapping[str, str]] | None = None,
) -> ReleaseView:
    """A ReleaseView whose apps (in start order) hold exactly the given module sources.

    `extensions` {app: {module: sha256}}: with it every app entry has the `extensions` key
    (empty for apps not named); without it no entry has the key (a manifest from before it).
    """
    sources = {
        (app, module): textwrap.dedent(src).encode()
        for app, (_, modules) in apps.items()
        for module, src in modules.items()
    }
    manifest: dict[str, Any] = {
        "format": 1,
        "name": name,
        "version": version,
        "requires_python": ">=3.11",
        "runtime": {
            "name": "primes_runtime",
            "version": "1",
            "path": "lib/primes_runtime-1",
            "modules": {"primes_runtime": "0" * 64},
        },
        "apps": [
            {
                "name": app,
                "version": vsn,
                "path": f"lib/{app}-{vsn}",
                "description": "",
                "start": f"{app}.app:start",
                "stop": None,
                "needs": [],
                "env": {},
                "modules": {
                    m: hashlib.sha256(sources[(app, m)]).hexdigest() for m in sorted(modules)
                },
            }
            for app, (vsn, modules) in apps.items()
        ],
    }
    if extensions is not None:
        for entry in manifest["apps"]:
            entry["extensions"] = dict(extensions.get(entry["name"], {}))

    def read_source(app: str, module: str) -> bytes:
        return sources[(app, module)]

    return ReleaseView(manifest, read_source, f"primenode_{version}.tar.gz")


def app_dir(root: Path, app: str, version: str, tool_table: str = "") -> Path:
    """apps/<app>/pyproject.toml under `root` with `[tool.primes.app]` plus `tool_table` text."""
    path = root / "apps" / app
    path.mkdir(parents=True, exist_ok=True)
    text = (
        f'[project]\nname = "{app}"\nversion = "{version}"\n\n'
        f'[tool.primes.app]\nstart = "{app}.app:start"\n' + textwrap.dedent(tool_table)
    )
    (path / "pyproject.toml").write_text(text)
    return path


class Said:
    """A `say` callback that keeps the lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


# The seed: prime_miner's code is the same in 1 and 2; the declaration carries the change.
MINER = textwrap.dedent(
    """
    from primes_runtime import statem
    from primes_runtime.statem import Next, Keep, StateTimeout

    def start_link():
        return statem_start()

    def statem_start():
        from primes_runtime import start_statem
        return start_statem(__name__, None, name="prime_miner")

    def init(args):
        return Next("mining", {"primes": [13, 11, 7, 5, 3, 2], "interval": 10.0})

    def handle_event(kind, content, state, data):
        return Keep(data)

    def code_change(old_vsn, state, data, extra):
        return Next(state, data)
"""
)
SEED_PRIME_MINER = {
    "prime_miner": "",
    "prime_miner.app": """
        from primes_runtime import supervisor

        def start():
            return supervisor.start("prime_miner.sup")
    """,
    "prime_miner.sup": """
        from primes_runtime.supervisor import ChildSpec, SupSpec

        def init(args):
            return SupSpec(children=[ChildSpec("miner", ("prime_miner.miner", "start_link", ()))])
    """,
    "prime_miner.miner": MINER,
    "pm": """
        import primes_runtime

        def largest_prime():
            return primes_runtime.call("prime_miner", "largest_prime")
    """,
}
SEED_FRONTMAN = {
    "frontman": "",
    "frontman.app": "def start():\n    return None\n",
    "frontman.http": "import pm\n\ndef serve():\n    return pm.largest_prime()\n",
}
SEED_PRIMES = {"primes": "", "primes.app": "def start():\n    return None\n"}
SEED_DECLARATION = """
[tool.primes.app.upgrade."2"]
up_from."1" = [ { update = "prime_miner.miner", extra = "from1to2" } ]
down_to."1" = [ { update = "prime_miner.miner", extra = "from2to1" } ]
"""


def seed_release(version: str, miner_vsn: str) -> ReleaseView:
    """The seed's release `version`, with prime_miner at `miner_vsn`."""
    return release(
        version,
        {
            "prime_miner": (miner_vsn, SEED_PRIME_MINER),
            "frontman": ("1", SEED_FRONTMAN),
            "primes": ("1", SEED_PRIMES),
        },
    )


def seed_sources(root: Path, miner_vsn: str = "2") -> dict[str, Path]:
    """The seed's app source dirs under `root` (prime_miner with its declaration)."""
    return {
        "prime_miner": app_dir(root, "prime_miner", miner_vsn, SEED_DECLARATION),
        "frontman": app_dir(root, "frontman", "1"),
        "primes": app_dir(root, "primes", "1"),
    }


# A chain: release 3 changes prime_miner again (declared), frontman (derived),
# drops the app `legacy` and adds the app `ledger`.
PM_3 = textwrap.dedent(SEED_PRIME_MINER["pm"]) + "\ndef announce(vsn):\n    return vsn\n"
MINER_3 = MINER.replace('"interval": 10.0', '"interval": 0.1')
FRONTMAN_3 = {
    "frontman": "",
    "frontman.app": "def start():\n    return None\n",
    "frontman.http": "import pm\n\ndef serve():\n    return str(pm.largest_prime())\n",
    "frontman.api": "def routes():\n    return []\n",
}
LEGACY = {"legacy": "", "legacy.app": "def start():\n    return None\n"}
LEDGER = {"ledger": "", "ledger.app": "def start():\n    return None\n"}
CHAIN_DECLARATION_3 = """
[tool.primes.app.upgrade."3"]
up_from."2" = [ { update = "prime_miner.miner", extra = "from2to3" }, { load_module = "pm" } ]
up_from."*" = [
    { update = "prime_miner.miner", extra = "from1to3" },
    { load_module = "pm" },
    { apply = "pm:announce", args = ["3"] },
]
down_to."*" = [ { update = "prime_miner.miner", extra = "down" }, { load_module = "pm" } ]
"""


def chain_release(version: str) -> ReleaseView:
    """Release 1, 2 or 3 of the chain."""
    if version == "3":
        miner = dict(SEED_PRIME_MINER, **{"prime_miner.miner": MINER_3, "pm": PM_3})
        return release(
            "3",
            {
                "ledger": ("1", LEDGER),
                "prime_miner": ("3", miner),
                "frontman": ("2", FRONTMAN_3),
                "primes": ("1", SEED_PRIMES),
            },
        )
    frontman = dict(SEED_FRONTMAN, **{"frontman.old": "X = 1\n"})
    return release(
        version,
        {
            "prime_miner": (version, SEED_PRIME_MINER),
            "frontman": ("1", frontman),
            "legacy": ("1", LEGACY),
            "primes": ("1", SEED_PRIMES),
        },
    )


def chain_sources(root: Path) -> dict[str, Path]:
    """Release 3's app source dirs under `root`."""
    return {
        "prime_miner": app_dir(root, "prime_miner", "3", CHAIN_DECLARATION_3),
        "frontman": app_dir(root, "frontman", "2"),
        "primes": app_dir(root, "primes", "1"),
        "ledger": app_dir(root, "ledger", "1"),
    }


def texts(scripts: list[Script]) -> dict[str, str]:
    """{path: .relup text} of the planner's scripts, as the release assembler renders them."""
    return {s.path: s.render(AGAINST_SHA256) for s in scripts}


def parse(text: str) -> list[relup.Instruction]:
    """The instructions of a .relup text, read by the runtime's reader."""
    return list(relup.parse(text, Path("<test>.relup")).instructions)
