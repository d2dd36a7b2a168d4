# Two commands do all the set-up on a fresh machine with Python 3.10+ and make:
#   make demo   an edit on the embedded emulator (no key, no network)
#   make test   lint, format check, import layers, type check and the whole test suite
# uv is used when it is on PATH; otherwise it is installed into .tools/ from PyPI.

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION ?= 0.13.8
TOOLS := .tools

export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON ?= $(shell $(PYTHON) -c 'import sys; print(sys.executable)')

UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(TOOLS)/bin/uv
endif
RUN := $(UV) run --no-sync

.PHONY: all sync test lint typecheck docs docs-serve browser pytest screenshots demo bench dist clean

all: test

$(TOOLS)/bin/uv:
	@echo "uv not found: installing uv $(UV_VERSION) into $(TOOLS)/"
	@if $(PYTHON) -m venv $(TOOLS) 2>/dev/null; then \
	  $(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"; \
	else \
	  rm -rf $(TOOLS); \
	  $(PYTHON) -m pip install --quiet --disable-pip-version-check --target $(TOOLS)/pkgs "uv==$(UV_VERSION)" \
	    && mkdir -p $(TOOLS)/bin && ln -sf ../pkgs/bin/uv $(TOOLS)/bin/uv; \
	fi

sync: $(UV)
	$(UV) sync --all-packages --locked --quiet

# lint-imports checks the layers of [tool.importlinter] in pyproject.toml (docs/architecture.md).
lint: sync
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) lint-imports

typecheck: sync
	$(RUN) mypy

# The documentation site, built strictly (a broken link or a docstring that no longer
# resolves fails), offline, into the ignored build/; and the worked example package under
# docs/examples, checked with its own settings as its author would.
EXAMPLE := docs/examples/acme-video
docs: sync
	NO_MKDOCS_2_WARNING=1 $(RUN) mkdocs build --strict --site-dir build/site
	$(RUN) ruff check --config $(EXAMPLE)/pyproject.toml $(EXAMPLE)
	$(RUN) ruff format --check --config $(EXAMPLE)/pyproject.toml $(EXAMPLE)
	$(RUN) mypy --config-file $(EXAMPLE)/pyproject.toml $(EXAMPLE)/src

# The same site, served at http://127.0.0.1:8000 and rebuilt on every change.
docs-serve: sync
	NO_MKDOCS_2_WARNING=1 $(RUN) mkdocs serve --dev-addr 127.0.0.1:8000

# The browser the tests under tests/browser drive (Playwright for Python on Debian's
# chromium: Playwright's own browser download needs the internet). Installed with apt-get
# where it is missing and we are root (CI is); otherwise those tests skip saying why (under
# CI=true they fail instead). The reason of a failed install is left in build/browser.log.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x $(CHROMIUM) ]; then exit 0; fi; \
	mkdir -p build; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "browser: $(CHROMIUM) is missing and we are not root: tests/browser will skip" \
	    "(install it with: sudo apt-get install chromium)" | tee build/browser.log; \
	  exit 0; \
	fi; \
	echo "browser: $(CHROMIUM) is missing: apt-get install chromium (a few minutes, once)"; \
	if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	    > build/browser.log 2>&1; then \
	  echo "browser: installed $$($(CHROMIUM) --version 2>/dev/null)"; \
	else \
	  echo "browser: apt-get install chromium failed (see build/browser.log): tests/browser will skip"; \
	fi

pytest: sync browser
	$(RUN) pytest $(PYTEST_ARGS)

# The console's pictures in docs/images/console-*.png, taken by its browser tests (every run
# of those tests also leaves them in build/screenshots/). Commit them with the change they show.
screenshots: sync browser
	VIDEOEDIT_SCREENSHOTS=1 $(RUN) pytest -q -p no:randomly tests/browser/test_console_in_chromium.py

test: lint typecheck docs pytest

demo: sync
	$(RUN) videoedit-emulator demo

# The performance figures beside their targets (bench/README.md, docs/performance.md); a few
# minutes. Some of them: make bench BENCH="render control". Not part of make test.
bench: sync
	$(RUN) python -m bench $(BENCH)

# Every distribution that is released, wheel and sdist, into dist/, built offline with the
# locked hatchling of .venv and checked (metadata, README, licence file, bounds) before any upload.
# The test and example packages are never built here (they are marked Private :: Do Not
# Upload besides). The version is the one line of VERSION; see CONTRIBUTING.md.
DISTRIBUTIONS := videoedit videoedit-dashscope videoedit-vtrix videoedit-apimart videoedit-vace videoedit-emulator
dist: sync
	rm -rf dist
	for name in $(DISTRIBUTIONS); do \
	  $(UV) build --quiet --no-build-isolation --python .venv/bin/python --package $$name --out-dir dist || exit 1; \
	done
	$(RUN) python .ci/check_dist.py --public dist

clean:
	rm -rf $(TOOLS) .venv .mypy_cache .ruff_cache .import_linter_cache .grimp_cache build dist
