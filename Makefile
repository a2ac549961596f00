# `make run` starts the whole platform on this machine; `make test` is the check CI runs (.ci/run).
# Both need only Python 3.11+: the virtualenv is created, and the project installed, on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstalled only when pyproject.toml changes (the install is editable, so code changes need none).
INSTALLED := $(VENV)/.installed

.PHONY: run test browser

run: $(INSTALLED)
	$(BIN)/harambee-stack run

# pytest exits 5 when it collected no tests: a suite that silently vanished must fail the build.
test: $(INSTALLED) browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

# The console's browser tests drive the system's Chromium (Playwright cannot download browsers here). On a
# Debian machine where we are root it is installed; elsewhere tests/console fails saying how to install it.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || true

$(INSTALLED): pyproject.toml
	@test -x $(BIN)/python || { \
		$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "make: $(PYTHON) is not Python 3.11+; try: make PYTHON=python3.11 ..." >&2; exit 1; }; \
		echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@
