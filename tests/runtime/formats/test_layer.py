"""The format layer stands alone: stdlib only, and importing it leaves the runtime unloaded."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import primes_runtime

LAYER = Path(primes_runtime.__file__).parent / "formats"


def test_importing_the_format_layer_does_not_import_the_rest_of_the_runtime() -> None:
    code = (
        "import sys, primes_runtime.formats.relup, primes_runtime.formats.manifest; "
        "print(sorted(m for m in sys.modules if m.startswith('primes_runtime')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = ast.literal_eval(out.stdout)
    assert [m for m in loaded if not m.startswith("primes_runtime.formats")] == ["primes_runtime"]


def test_the_public_runtime_api_is_still_there_when_first_used() -> None:
    code = (
        "import primes_runtime as p; "
        "print(sorted(n for n in p.__all__ if getattr(p, n, None) is None))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert "start_server" in primes_runtime.__all__ and "call" in dir(primes_runtime)


def test_the_format_layer_imports_only_the_standard_library_and_itself() -> None:
    for path in sorted(LAYER.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                top = node.module.split(".")[0]
            elif isinstance(node, ast.Import):
                top = node.names[0].name.split(".")[0]
            else:
                continue
            assert top in sys.stdlib_module_names or top == "__future__", (path.name, top)
