"""`python -m primes_runtime.cli`: the same commands as bin/<name>."""

from __future__ import annotations

import sys

from primes_runtime.cli.app import main

sys.exit(main())
