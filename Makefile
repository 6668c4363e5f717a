# Quick start: `make demo` then `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# torch is pinned for the dev environment: the CPU wheel lies on disk, and an
# unpinned torch would make pip fetch a multi-GB CUDA build.
TORCH_PIN := torch==2.13.0

.PHONY: demo test test-oldest lint typecheck bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(PY) setup.cfg setup.py
	$(PY) -m pip install --quiet "$(TORCH_PIN)" -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed setup.cfg
	$(PY) -m pip install --quiet "$(TORCH_PIN)" -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(PY) -m summaryplus demo

lint: $(VENV)/.installed-test
	$(PY) -m ruff check summaryplus tests benchmarks

typecheck: $(VENV)/.installed-test
	$(PY) -m mypy --strict summaryplus

test: $(VENV)/.installed-test lint typecheck
	$(PY) -m pytest -q
	$(PY) -m pytest -q -p no:cacheprovider --doctest-modules summaryplus

# The core suite (no optional extras: their tests skip) on the oldest torch
# setup.cfg declares. Not part of .ci/run. Only torch 2.13.0 is installable
# here, so the declared floor is torch>=2.13; raise OLDEST_TORCH with it.
OLDEST_VENV := .venv-oldest
OLDEST_PY := $(OLDEST_VENV)/bin/python
OLDEST_TORCH := 2.13.0

$(OLDEST_VENV)/.installed: setup.cfg setup.py
	grep -qE "torch>=$(basename $(OLDEST_TORCH))$$" setup.cfg || \
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
