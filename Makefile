# Quick start: `make demo` then `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# torch is pinned for the dev environment: the CPU wheel lies on disk, and an
# unpinned torch would make pip fetch a multi-GB CUDA build.
TORCH_PIN := torch==2.13.0

.PHONY: demo test lint typecheck bench clean

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

bench: $(VENV)/.installed-test
	$(PY) benchmarks/bench_scaling.py
	$(PY) benchmarks/bench_overhead.py
	$(PY) benchmarks/bench_accuracy.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
