"""Reading releases/<vsn>/node.toml: defaults, env overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from primes_runtime.errors import ConfigError
from primes_runtime.host import config

pytestmark = pytest.mark.usefixtures("node")


def test_a_missing_node_config_means_defaults(tmp_path: Path) -> None:
    assert config.load(tmp_path, "1") == config.NodeConfig()


def test_node_settings_and_env_overrides_are_read() -> None:
    cfg = config.parse(
        '[node]\nname = "n1"\nshutdown_timeout = 3\nlog_backups = 2\n[env.frontman]\nport = 8080\n'
    )
    assert (cfg.name, cfg.shutdown_timeout, cfg.log_backups) == ("n1", 3.0, 2)
    assert cfg.env == {"frontman": {"port": 8080}}


def test_an_unknown_key_is_refused_with_a_hint() -> None:
    with pytest.raises(ConfigError, match=r"unknown key node\.shutdown_timout.*'shutdown_timeout'"):
        config.parse("[node]\nshutdown_timout = 3\n")


def test_a_wrong_type_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"key node\.log_backups has the wrong type"):
        config.parse('[node]\nlog_backups = "five"\n')


def test_invalid_toml_names_the_file() -> None:
    with pytest.raises(ConfigError, match=r"^node\.toml: not valid TOML"):
        config.parse("[node\n")
