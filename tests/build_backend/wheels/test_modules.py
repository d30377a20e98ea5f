"""Tests of primes_build.wheels.modules: a code dir's modules and compiled extensions, hashed."""

from __future__ import annotations

import hashlib
import importlib.machinery

from primes_build.wheels.modules import extension_hashes, module_hashes

# e.g. fastbit.cpython-311-x86_64-linux-gnu.so: this Python's own most specific suffix
SO = "fastbit" + importlib.machinery.EXTENSION_SUFFIXES[0]
BYTES = b"\x7fELF not really a compiled extension"


def test_extension_hashes_name_each_extension_by_its_module_not_its_file() -> None:
    files = {
        f"alpha/{SO}": BYTES,
        "alpha/speed.abi3.so": b"abi3",
        "alpha/plain.so": b"plain",
        "alpha/__init__.py": b"",
        "alpha.libs/libz-1a2b.so": b"a vendored library, not a module",
        "alpha-1.dist-info/x.so": b"metadata dir",
    }
    assert extension_hashes(files) == {
        "alpha.fastbit": hashlib.sha256(BYTES).hexdigest(),
        "alpha.plain": hashlib.sha256(b"plain").hexdigest(),
        "alpha.speed": hashlib.sha256(b"abi3").hexdigest(),
    }
    assert module_hashes(files) == {"alpha": hashlib.sha256(b"").hexdigest()}
