# Policy Gradients, Executably: build, test and run the book.
#
#   make book       build the static site into _build/html (executes the notebooks)
#   make test       the whole test suite: pgbook tests, nbval over book/, site build + browser test
#   make lab        JupyterLab on book/, with live widgets
#   make notebook   Jupyter Notebook 7 on book/, with live widgets
#   make serve      serve _build/html on http://127.0.0.1:$(PORT)
#   make bench      run every benchmarks/bench_*.py
#   make notebooks  re-execute book/**/*.ipynb in place (refreshes their committed outputs)
#
# Everything runs in .venv, created from the pinned requirements.txt with $(PYTHON) (3.11+).

PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
NPM ?= npm

# Stamp files record that a step is up to date with its inputs.
VENV_STAMP := $(VENV)/.requirements-installed
PGBOOK_STAMP := $(VENV)/.pgbook-installed
NODE_STAMP := node_modules/.package-lock-installed
VENDOR_STAMP := vendor/.vendored
EXEC_STAMP := _build/.pgbook-sources

JB_BUILD := $(BIN)/jupyter-book build . -W -n --keep-going
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 300

# Hash randomisation off, so a set or dict printed by a notebook has the same order in every run.
export PYTHONHASHSEED := 0

.PHONY: help book test lab notebook serve bench notebooks venv vendor clean distclean
.DEFAULT_GOAL := help

help:
	@sed -n '3,10p' Makefile | sed 's/^# *//'

# ---------------------------------------------------------------------------------------------
# Environment

venv: $(VENV_STAMP) $(PGBOOK_STAMP)

# A changed requirements.txt re-creates .venv from scratch, so it holds exactly the pins.
$(VENV_STAMP): requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "error: '$(PYTHON)' not found; install Python 3.11+ or run e.g. make $(MAKECMDGOALS) PYTHON=python3.12" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "error: the book needs Python 3.11 or newer, but $(PYTHON) is $$($(PYTHON) -c 'import platform; print(platform.python_version())')." >&2; \
	  echo "       Run e.g. make $(MAKECMDGOALS) PYTHON=python3.12" >&2; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(PGBOOK_STAMP): $(VENV_STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# MathJax and the widget JavaScript, pinned in package-lock.json, copied into vendor/ for the site.
$(NODE_STAMP): package.json package-lock.json
	@command -v $(NPM) >/dev/null 2>&1 || { \
	  echo "error: npm not found; install Node.js (it brings npm): https://nodejs.org or your package manager" >&2; exit 1; }
	$(NPM) ci --ignore-scripts --no-audit --no-fund
	touch $@

vendor: $(VENDOR_STAMP)

$(VENDOR_STAMP): $(NODE_STAMP) tools/vendor_assets.py $(VENV_STAMP)
	$(BIN)/python tools/vendor_assets.py
	touch $@

# jupyter-cache reuses a notebook's outputs while its code is unchanged; it cannot see a change in
# pgbook/ or in the environment, so such a change throws away the cache and the previous build.
$(EXEC_STAMP): $(wildcard pgbook/*.py) $(PGBOOK_STAMP)
	rm -rf _build/.jupyter_cache _build/.doctrees _build/jupyter_execute _build/html
	mkdir -p _build
	touch $@

# ---------------------------------------------------------------------------------------------
# The book

book: $(PGBOOK_STAMP) $(VENDOR_STAMP) $(EXEC_STAMP)
	PGBOOK_STATIC=1 $(JB_BUILD)
	@echo
	@echo "The book is built. Open this page in a browser:"
	@echo "  file://$(CURDIR)/_build/html/index.html"
	@echo "(or run 'make serve' and open http://127.0.0.1:$(PORT)/)"

# The site test (tests/test_site.py) builds the site itself, in one xdist worker, while the
# other worker runs the pgbook tests and nbval over the notebooks.
test: $(PGBOOK_STAMP) $(VENDOR_STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile $(NBVAL) tests book

# Jupyter refuses to run as root unless told (containers, CI machines).
LAB_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)
# Default settings from the repository (jupyter/lab-settings/overrides.json), not from ~/.jupyter.
LAB_SETTINGS := $(CURDIR)/jupyter/lab-settings

lab: $(PGBOOK_STAMP)
	env -u PGBOOK_STATIC $(BIN)/jupyter lab --ServerApp.root_dir=book \
	  --LabApp.app_settings_dir=$(LAB_SETTINGS) $(LAB_FLAGS)

notebook: $(PGBOOK_STAMP)
	env -u PGBOOK_STATIC $(BIN)/jupyter notebook --ServerApp.root_dir=book \
	  --JupyterNotebookApp.app_settings_dir=$(LAB_SETTINGS) $(LAB_FLAGS)

serve: book
	@echo "Serving _build/html on http://127.0.0.1:$(PORT)/ (Ctrl-C stops)"
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

bench: $(PGBOOK_STAMP) $(VENDOR_STAMP)
	@status=0; for script in benchmarks/bench_*.py; do \
	  echo "== $$script"; \
	  $(BIN)/python $$script || { echo "!! $$script failed" >&2; status=1; }; \
	done; exit $$status

notebooks: $(PGBOOK_STAMP)
	$(BIN)/python tools/execute_notebooks.py

# ---------------------------------------------------------------------------------------------

clean:
	rm -rf _build vendor

distclean: clean
	rm -rf $(VENV) node_modules
