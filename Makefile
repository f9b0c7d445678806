# The two commands: `make run` (whole system with demo data) and `make test` (every check).
# Only Python 3.11+ is needed; everything else installs into .venv from pinned constraints.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench smoke install lock format clean browsers

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m omnilog.launcher run

test: install browsers
	$(BIN)/python -m omnilog.launcher test $(ARGS)

bench: install
	$(BIN)/python -m omnilog.launcher bench $(ARGS)

smoke: install
	$(BIN)/python -m omnilog.launcher smoke

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

# Re-resolve the pinned versions after changing pyproject.toml.
lock:
	rm -rf /tmp/omnilog-lock && $(PYTHON) -m venv /tmp/omnilog-lock
	/tmp/omnilog-lock/bin/pip install --quiet -e '.[dev]'
	/tmp/omnilog-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements/constraints.txt

# Browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
# OMNILOG_CHROMIUM points elsewhere; installing needs root (CI and the dev machines run as root).
CHROMIUM ?= $(or $(OMNILOG_CHROMIUM),/usr/bin/chromium)
browsers:
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation; }

clean:
	rm -rf $(VENV) var/static
