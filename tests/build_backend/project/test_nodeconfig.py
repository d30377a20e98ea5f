"""Tests of primes_build.project.nodeconfig: merging defaults and writing node.toml."""

from __future__ import annotations

import tomllib

from primes_build.project import nodeconfig


def test_primes_toml_values_override_defaults_and_name_defaults_to_the_release() -> None:
    merged = nodeconfig.merge(
        {"shutdown_timeout": 10.0, "log_backups": 5}, {"log_backups": 1}, "rel"
    )
    assert merged == {"name": "rel", "shutdown_timeout": 10.0, "log_backups": 1}


def test_rendered_node_toml_reads_back_with_tomllib() -> None:
    env = {"web": {"port": 0, "host": "127.0.0.1", "tags": ["a", "b"], "odd key": {"x": True}}}
    text = nodeconfig.render({"name": "n", "shutdown_timeout": 2.5}, env)
    assert tomllib.loads(text) == {"node": {"name": "n", "shutdown_timeout": 2.5}, "env": env}
    assert "# cookie: unset" in text
