# The two commands a fresh machine needs (Python 3.11, git, make):
#   make book   build the HTML book into book/_build/html (executes every chapter)
#   make test   run the test suite
# Both create .venv on first use (or use the active virtual environment, or VENV=path),
# install the pinned dependencies once, and reuse them afterwards.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
ifdef VIRTUAL_ENV
VENV ?= $(VIRTUAL_ENV)
else
VENV ?= .venv
endif
BIN := $(abspath $(VENV))/bin
STAMP := $(abspath $(VENV))/.rnncourse-installed

# Run everything with the environment's Python and its own Jupyter kernel, never a
# stale user-level kernelspec that would silently run another interpreter.
export PATH := $(BIN):$(PATH)
export JUPYTER_PATH := $(abspath $(VENV))/share/jupyter
# The test suite and CI point the data loaders at a local mirror when one exists.
SHARED_DATA := $(abspath ../shared/data)

.PHONY: book test exercises env clean-book help
.DEFAULT_GOAL := help

help:
	@echo "make book       build the HTML book into book/_build/html"
	@echo "make test       run the test suite"
	@echo "make exercises  regenerate exercises/ from solutions/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the pins change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[book,grade,dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (rnncourse)"
	touch $(STAMP)

env: $(STAMP)

book: env
	$(BIN)/jupyter-book build book --builder html -W -n --keep-going
	@echo "The book's front page: $(abspath book/_build/html/index.html)"

test: env
	$(BIN)/python -m pytest

exercises: env
	$(BIN)/python -m rnncourse.grading.release

clean-book:
	rm -rf book/_build
