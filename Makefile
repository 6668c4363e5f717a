# Quick start: `make demo` then `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# torch is pinned for the dev environment: the CPU wheel lies on disk, and an
# unpinned torch would make pip fetch a multi-GB CUDA build.
TORCH_PIN := torch==2.13.0
# Exact versions of every other package the dev and test installs take, so a
# fresh clone tests what the last green run tested, whatever was released since.
# `make test-latest` tries the newest allowed versions; `make lock` moves this
# file to them once that run passes.
LOCK := requirements/test-lock.txt

.PHONY: demo test test-latest lock test-torch test-oldest lint typecheck bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(PY) setup.cfg setup.py $(LOCK)
	$(PY) -m pip install --quiet -c $(LOCK) "$(TORCH_PIN)" -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed setup.cfg $(LOCK)
	$(PY) -m pip install --quiet -c $(LOCK) "$(TORCH_PIN)" -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(PY) -m summaryplus demo

lint: $(VENV)/.installed-test
	$(PY) -m ruff check summaryplus tests benchmarks

typecheck: $(VENV)/.installed-test
	$(PY) -m mypy --strict summaryplus

# The suite runs in a random order (pytest-randomly), from a seed printed first:
# `make test SEED=N` runs that order again.
ifndef SEED
SEED := $(shell $(PYTHON) -c "import random; print(random.randrange(10**9))")
endif

test: $(VENV)/.installed-test lint typecheck
	@echo "test order: pytest-randomly seed $(SEED) (again: make test SEED=$(SEED))"
	$(PY) -m pytest -q -p randomly -p no:cacheprovider --randomly-seed=$(SEED)
	$(PY) -m pytest -q -p no:cacheprovider -p no:randomly --doctest-modules summaryplus

# The newest versions setup.cfg allows (torch stays pinned: other torches are
# test-torch's job), in a venv of their own made anew each run. It prints what
# moved against the lock, then runs what `make test` runs. Not part of .ci/run.
LATEST_VENV := .venv-latest
LATEST_PY := $(LATEST_VENV)/bin/python

test-latest:
	rm -rf $(LATEST_VENV)
	$(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_PY) -m pip install --quiet --upgrade pip
	$(LATEST_PY) -m pip install --quiet --upgrade "$(TORCH_PIN)" -e ".[test]"
	$(LATEST_PY) -m pip freeze --exclude-editable | grep -vE '^(torch==|-e |#)' | LC_ALL=C sort -f > $(LATEST_VENV)/freeze.txt
	@echo "--- what moved against $(LOCK) (< locked, > newest) ---"
	@grep -v '^#' $(LOCK) | diff - $(LATEST_VENV)/freeze.txt | grep '^[<>]' || echo "nothing: the lock is current"
	$(LATEST_PY) -m ruff check summaryplus tests benchmarks
	$(LATEST_PY) -m mypy --strict summaryplus
	$(LATEST_PY) -m pytest -q -p randomly -p no:cacheprovider --randomly-seed=$(SEED)
	$(LATEST_PY) -m pytest -q -p no:cacheprovider -p no:randomly --doctest-modules summaryplus

# Move the lock to what the last passing `make test-latest` installed.
lock:
	test -f $(LATEST_VENV)/freeze.txt || { echo "run 'make test-latest' first"; exit 1; }
	{ sed -n '1,2p' $(LOCK); cat $(LATEST_VENV)/freeze.txt; } > $(LOCK).new
	mv $(LOCK).new $(LOCK)

# The suite on another torch: `make test-torch TORCH=2.14.1`. Each version gets
# its own venv with that torch pinned and everything else from the lock. The
# registry's torch builds are CUDA builds (several GB; they run on CPU).
# Not part of .ci/run (CI keeps the pinned torch, for its time).
TORCH ?= 2.14.1
TORCH_VENV := .venv-torch-$(TORCH)
TORCH_PY := $(TORCH_VENV)/bin/python

$(TORCH_VENV)/.installed: setup.cfg setup.py $(LOCK)
	$(PYTHON) -m venv $(TORCH_VENV)
	$(TORCH_PY) -m pip install --quiet --upgrade pip
	grep -vE '^(sympy|networkx|filelock|fsspec|jinja2|MarkupSafe|mpmath|typing_extensions)==' $(LOCK) > $(TORCH_VENV)/lock.txt
	$(TORCH_PY) -m pip install --quiet -c $(TORCH_VENV)/lock.txt "torch==$(TORCH)" -e ".[test]"
	touch $@

test-torch: $(TORCH_VENV)/.installed
	$(TORCH_PY) -c "import torch; print('torch', torch.__version__)"
	$(TORCH_PY) -m pytest -q -p no:cacheprovider

# The core suite (no optional extras: their tests skip) on the oldest torch
# setup.cfg declares. Not part of .ci/run. Older torches install here too (CUDA
# builds from the registry); docs/versions.md says what each ran and why the
# floor is still 2.13. Move OLDEST_TORCH with setup.cfg's floor.
OLDEST_VENV := .venv-oldest
OLDEST_PY := $(OLDEST_VENV)/bin/python
OLDEST_TORCH := 2.13.0

$(OLDEST_VENV)/.installed: setup.cfg setup.py
	grep -qE "torch>=$(basename $(OLDEST_TORCH))(,|$$)" setup.cfg || \
		{ echo "setup.cfg's torch floor is not $(OLDEST_TORCH): update OLDEST_TORCH"; exit 1; }
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_PY) -m pip install --quiet "torch==$(OLDEST_TORCH)" "tabulate>=0.9" numpy "pytest>=7" "hypothesis>=6"
	$(OLDEST_PY) -m pip install --quiet --no-deps -e .
	touch $@

test-oldest: $(OLDEST_VENV)/.installed
	$(OLDEST_PY) -m pytest -q -p no:cacheprovider

bench: $(VENV)/.installed-test
	$(PY) benchmarks/bench_scaling.py
	$(PY) benchmarks/bench_overhead.py
	$(PY) benchmarks/bench_accuracy.py
	$(PY) benchmarks/bench_report.py

clean:
	rm -rf $(VENV) $(OLDEST_VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
