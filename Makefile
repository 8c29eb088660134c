# `make run` and `make test` set up .venv on first use (and again when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

.PHONY: run test bench bench-instructions bench-broadcast bench-scale lint
# The main job without a Telegram token: the bot in the terminal, with demo enterprises.
run: $(VENV)/.installed
	$(PY) main.py chat --demo

test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) -m bench.domain
	$(PY) -m bench.answers
	$(PY) -m bench.similarity
	$(PY) -m bench.imports
	$(PY) -m bench.admin
	$(PY) -m bench.workbench
	$(PY) -m bench.workbook
	$(PY) -m bench.uploads

# The instructions one update costs (the form's and the echo's, counted by valgrind): ~7 min.
bench-instructions: $(VENV)/.installed
	$(PY) -m bench.instructions

# A 2,000- and a 20,000-recipient broadcast at 25 messages/s: about 15 minutes.
bench-broadcast: $(VENV)/.installed
	$(PY) -m bench.broadcast

# PostgreSQL + Redis (the local ones, database `bench`; as root, for the cgroups that hold each
# instance to 0.6 CPU in the second pair of runs): 2,000 contacts answering at once on
# one and two instances, then the deadline day's 20,000 submissions: about an hour.
bench-scale: $(VENV)/.installed
	$(PY) -m bench.load
	$(PY) -m bench.deadline
