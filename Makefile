# primes: developer entry points. `make test` runs everything CI runs; `make demo` tells the seed story.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
APPS   := $(wildcard apps/*/pyproject.toml)
NODE   ?= $(CURDIR)/demo/node

# The runtime's unit tests run on every Python it supports, each in a venv of its own:
# `make runtime-3.12` (the interpreter: pyenv's newest 3.12, else python3.12 on PATH).
OTHER_PYTHONS := 3.12 3.13
pyenv_python   = $(firstword $(wildcard $(shell pyenv root 2>/dev/null)/versions/$(1).*/bin/python$(1)) $(shell command -v python$(1) 2>/dev/null))
RUNTIME_TESTS  := tests/runtime tests/contract --ignore=tests/runtime/control tests/runtime/control/test_script_without_node.py tests/runtime/control/test_script_one_interpreter.py
RUNTIME_REQS   := pytest>=8 pytest-xdist>=3.6 packaging>=26.4 jinja2>=3.1 installer>=0.7 build>=1.2 setuptools>=68

.PHONY: help venv test lint typecheck unit demo release node update repl stop bench bench-handover clean $(OTHER_PYTHONS:%=runtime-%)

help:
	@echo "make test    - create .venv, run ruff, mypy and every test (what CI runs)"
	@echo "make demo    - the seed story end to end in ./demo (build 1, start, build 2, upgrade, downgrade, stop)"
	@echo "make bench   - run the benchmarks under bench/ (prints JSON and a table)"
	@echo "make bench-handover - a hand-over beside restarts under HTTP load (about 2 minutes)"
	@echo "make release - python -m build into dist/"
	@echo "make node    - unpack the newest dist/ package into $(NODE) and start it"
	@echo "make update  - upgrade the running node to the newest package in dist/"
	@echo "make repl    - remote console into the running node"
	@echo "make stop    - stop the node"

$(STAMP): requirements-dev.txt runtime/pyproject.toml build_backend/pyproject.toml $(APPS)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq --upgrade pip
	$(PY) -m pip install -qq -r requirements-dev.txt
	$(PY) -m pip install -qq --no-build-isolation -e runtime -e build_backend $(foreach a,$(APPS),-e $(dir $(a)))
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# Three workers on the 2 cores: most e2e time is waiting on nodes, builds and ansible, so a
# third keeps the cores busy (pytest's own part of make test: 7:56 with 3, 8:46 with 2, the
# same session). A test file stays on one worker, so its module fixtures are built once;
# the files with e2e tests go first (conftest.py), so no long one starts last.
PYTEST_WORKERS ?= 3
XDIST = -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

# Each suite's files go to a fresh directory in RAM where there is one that can run programs
# (tools/test_tmp.sh says why; TEST_TMP=no keeps the defaults). It is removed when the suite
# passes and kept, for a look, when it fails.
TEST_TMP ?= yes
in_test_tmp = d=$$([ "$(TEST_TMP)" = no ] || sh tools/test_tmp.sh $(1)); \
	if [ -n "$$d" ]; then echo "test files in $$d"; export TMPDIR="$$d/t"; set -- --basetemp="$$d/p"; fi; \
	status=0; $(2) "$$@" || status=$$?; \
	if [ -n "$$d" ]; then if [ $$status = 0 ]; then rm -rf "$$d"; rmdir "$${d%/*}" 2>/dev/null || :; else echo "test files kept in $$d" >&2; fi; fi; \
	exit $$status

unit: $(STAMP)
	@$(call in_test_tmp,u,$(PY) -m pytest -q $(XDIST))

test: lint typecheck unit $(OTHER_PYTHONS:%=runtime-%)

.venv-%/.installed: runtime/pyproject.toml build_backend/pyproject.toml
	@py="$(call pyenv_python,$*)"; [ -n "$$py" ] || { echo "no Python $* found (pyenv install $*, or python$* on PATH)" >&2; exit 1; }; \
	  "$$py" -m venv .venv-$*
	.venv-$*/bin/python -m pip install -qq --upgrade pip
	.venv-$*/bin/python -m pip install -qq $(foreach r,$(RUNTIME_REQS),"$(r)")
	.venv-$*/bin/python -m pip install -qq --no-build-isolation --no-deps -e runtime -e build_backend
	touch $@

$(OTHER_PYTHONS:%=runtime-%): runtime-%: .venv-%/.installed
	@$(call in_test_tmp,$*,.venv-$*/bin/python -m pytest -q $(XDIST) -m "not e2e" $(RUNTIME_TESTS))

demo: $(STAMP)
	$(PY) tools/demo.py

bench: $(STAMP)
	$(PY) bench/run_all.py

# Not part of `make bench`: 5 rounds of 4 ways take about 2 minutes (docs/benchmarks.md).
bench-handover: $(STAMP)
	$(PY) bench/handover_bench.py

release: $(STAMP)
	$(PY) -m build

node: $(STAMP)
	@pkg=$$(ls -t dist/primenode_*.tar.gz | head -n 1); \
	  mkdir -p $(NODE) && tar -xzf $$pkg -C $(NODE) && $(NODE)/bin/primenode start

update:
	@pkg=$$(ls -t dist/primenode_*.tar.gz | head -n 1); $(NODE)/bin/primenode upgrade $$pkg

repl:
	$(NODE)/bin/primenode remote_console

stop:
	$(NODE)/bin/primenode stop

clean:
	rm -rf dist build demo .pytest_cache .mypy_cache .ruff_cache $(OTHER_PYTHONS:%=.venv-%)
