"""The start script bin/<release>, rendered from the jinja2 templates in rel/templates/."""

from __future__ import annotations

from pathlib import Path

import jinja2

from primes_build.config import ReleaseConfig
from primes_build.errors import BuildError

TEMPLATES = "rel/templates"
START_SCRIPT = "primenode.sh.j2"
UNIT = "primenode.service.j2"  # fleet: the systemd unit, shipped as releases/<vsn>/<name>@.service


def render(config: ReleaseConfig, name: str = START_SCRIPT) -> bytes:
    """The start script text for this release (or, with `name`, another template's)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(config.root / TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    try:
        template = env.get_template(name)
        text = template.render(
            release_name=config.name,
            release_version=config.version,
            requires_python=config.requires_python,
            python_min=config.python_min,
            stop_timeout=int(float(config.node.get("shutdown_timeout", 10.0))) + 10,
        )
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(
            f"template error: {exc.message}",
            file=f"{TEMPLATES}/{exc.name or name}",
            line=exc.lineno,
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise BuildError(f"template {exc.name} not found", file=TEMPLATES) from None
    except jinja2.UndefinedError as exc:
        raise BuildError(f"template error: {exc.message}", file=f"{TEMPLATES}/{name}") from None
    return text.encode("utf-8")


def template_path(root: Path) -> Path:
    """Where the start script template lives."""
    return root / TEMPLATES / START_SCRIPT


def has_template(root: Path, name: str) -> bool:
    """True if the project ships rel/templates/<name> (the unit is optional)."""
    return (root / TEMPLATES / name).is_file()
