"""The start script bin/<release>, rendered from the jinja2 templates in rel/templates/."""

from __future__ import annotations

from pathlib import Path

import jinja2

from primes_build.config import ReleaseConfig
from primes_build.errors import BuildError

TEMPLATES = "rel/templates"
START_SCRIPT = "primenode.sh.j2"


def render(config: ReleaseConfig) -> bytes:
    """The start script text for this release."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(config.root / TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    try:
        template = env.get_template(START_SCRIPT)
        text = template.render(
            release_name=config.name,
            release_version=config.version,
            requires_python=config.requires_python,
            python_min=config.python_min,
        )
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(
            f"template error: {exc.message}",
            file=f"{TEMPLATES}/{exc.name or START_SCRIPT}",
            line=exc.lineno,
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise BuildError(f"template {exc.name} not found", file=TEMPLATES) from None
    except jinja2.UndefinedError as exc:
        raise BuildError(
            f"template error: {exc.message}", file=f"{TEMPLATES}/{START_SCRIPT}"
        ) from None
    return text.encode("utf-8")


def template_path(root: Path) -> Path:
    """Where the start script template lives."""
    return root / TEMPLATES / START_SCRIPT
