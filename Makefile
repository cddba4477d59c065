# fast-style: `make demo` (set-up + a short training run) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch/torchvision pinned to releases every supported platform can install (see README)
TORCH  ?= torch==2.14.1 torchvision==0.29.1

.PHONY: install install-test demo test test-fast weights zoo-report clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

weights: install
	$(BIN)/fast-style-weights

demo: install
	$(BIN)/fast-style-weights
	$(BIN)/fast-style-demo

# tests run TEST_WORKERS at a time (pytest-xdist), each process with one torch thread: two workers of two threads
# each on two cores fought over them (12 min against 13.5 serial), one thread each keeps both cores busy
TEST_WORKERS ?= 2

# lint, then everything, including the tests marked slow and download (CI runs this)
test: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --durations=15

# the quick subset, for development
test-fast: install-test
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m "not slow and not download"

# the model zoo's quality report (README, "Ready styles"): held-out photos and the paintings, from DATA
DATA ?= ../shared/data
zoo-report: install
	$(BIN)/fast-style-weights --judge
	$(BIN)/python scripts/zoo_report.py --coco $(DATA)/coco --photos $(DATA)/content --style-dir $(DATA)/styles \
		--out zoo-report --force

clean-venv:
	rm -rf $(VENV)
