# Two commands do all the set-up on a fresh machine:
#   make demo   — install, create the SQLite database and build the sample novel's graph offline
#   make test   — install and run the tests (DATABASE_URL selects the database; SQLite by default)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/python: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(BIN)/python

install: $(BIN)/python

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py upload_novel samples/青锋录.txt --mode offline

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

.PHONY: install demo test lint
