# accueil — two commands: `make demo` runs the product, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Create the virtual environment, install, migrate, seed the demo company and serve on :8000.
demo: $(STAMP)
	$(BIN)/accueil demo

## Run the whole test suite (SQLite and PostgreSQL; set ACCUEIL_TEST_POSTGRES_URL if not local), one worker
## process per core (pytest-xdist; each worker has its own databases and server). TEST_JOBS=1 for one process.
TEST_JOBS ?= auto
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) var .pytest_cache
