"""Reading releases/<vsn>/release.json into frozen dataclasses; clear errors."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from primes_runtime.errors import ConfigError
from primes_runtime.host import manifest

pytestmark = pytest.mark.usefixtures("node")


def sample() -> dict[str, Any]:
    return {
        "format": 1,
        "name": "primenode",
        "version": "2",
        "requires_python": ">=3.11",
        "runtime": {
            "name": "primes_runtime",
            "version": "1",
            "path": "lib/primes_runtime-1",
            "modules": {
                "primes_runtime": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            },
        },
        "apps": [
            {
                "name": "prime_miner",
                "version": "2",
                "path": "lib/prime_miner-2",
                "description": "Discovers primes. Worth money?",
                "start": "prime_miner.app:start",
                "stop": None,
                "needs": [],
                "env": {"interval": 10.0},
                "modules": {
                    "pm": "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
                },
            },
            {
                "name": "primes",
                "version": "1",
                "path": "lib/primes-1",
                "description": "",
                "start": "primes.app:start",
                "stop": "primes.app:stop",
                "needs": ["prime_miner"],
                "env": {},
                "modules": {},
            },
        ],
        "upgrades": {"up_from": ["1"], "down_to": ["1"]},
    }


def write(root: Path, data: object) -> None:
    path = root / "releases" / "2" / "release.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data))


def test_load_reads_the_manifest_of_a_release(tmp_path: Path) -> None:
    write(tmp_path, sample())
    m = manifest.load(tmp_path, "2")
    assert (m.name, m.version, m.runtime.path) == ("primenode", "2", "lib/primes_runtime-1")
    assert [a.name for a in m.apps] == ["prime_miner", "primes"]
    miner = m.app("prime_miner")
    assert miner is not None
    assert miner.env == {"interval": 10.0} and miner.stop is None
    assert m.apps[1].needs == ("prime_miner",)
    assert m.up_from == ("1",)


def test_a_missing_manifest_says_which_release(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is release 2 unpacked"):
        manifest.load(tmp_path, "2")


def test_an_app_listed_before_what_it_needs_is_refused(tmp_path: Path) -> None:
    data = sample()
    data["apps"].reverse()
    write(tmp_path, data)
    with pytest.raises(ConfigError, match="needs 'prime_miner', which does not come before it"):
        manifest.load(tmp_path, "2")


def test_a_bad_start_names_the_key() -> None:
    data = sample()
    data["apps"][0]["start"] = "prime_miner.app"
    with pytest.raises(ConfigError, match=r"key 'apps\[0\]\.start' must be 'module:function'"):
        manifest.parse(data)


def test_a_wrong_format_is_refused() -> None:
    data = sample()
    data["format"] = 2
    with pytest.raises(ConfigError, match="key 'format' must be 1"):
        manifest.parse(data)


def test_extensions_keys_are_accepted_and_the_rest_reads_the_same() -> None:
    data = sample()
    data["runtime"]["extensions"] = {}
    data["apps"][0]["extensions"] = {
        "prime_miner.fastbit": "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    }
    data["apps"][1]["extensions"] = {}
    with_key, without = manifest.parse(data), manifest.parse(sample())
    assert with_key.apps[0].extensions == {"prime_miner.fastbit": "e" * 64}
    assert without.apps[0].extensions == {}
    assert replace(with_key.apps[0], extensions={}) == without.apps[0]
    assert with_key.apps[1:] == without.apps[1:] and with_key.runtime == without.runtime
