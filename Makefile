# Two commands matter: `make test` and `make demo`. Everything else is a step of those.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test check lint types unit demo bench clean lock

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH (or run: make PYTHON=/path/to/python3.11 ...)"; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

test: check unit

check: lint types

lint: $(STAMP)
	$(BIN)/ruff check src mocks tests bench
	$(BIN)/ruff format --check src mocks tests bench

types: $(STAMP)
	$(BIN)/mypy src mocks tests

# Tests run in as many processes as there are cores, at most four: the end-to-end and reliability
# tests spend most of their time waiting on processes of their own.
unit: $(STAMP)
	$(BIN)/pytest -q -n auto --maxprocesses=4

demo: $(STAMP)
	$(BIN)/oss-bridge demo

bench: $(STAMP)
	$(BIN)/python -m bench

# Refresh the pinned versions after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^oss-bridge' > constraints.txt

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
