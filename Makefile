# teamfoned: the two commands a person needs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint provision venv bench clean screenshots

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# Asterisk (system 20+, or a cached Debian sid root) and PostgreSQL server binaries.
provision:
	bash scripts/provision.sh

# Lint and types first: a new warning fails the run as a failing test does.
lint: venv
	$(PY) -m ruff check teamfoned tests benchmarks scripts
	$(PY) -m mypy

# The suite in parallel (pytest-xdist): most bench tests wait on SIP timers, not the CPU, and
# each worker runs its own bench (PBX and carrier on a loopback /24 of their own, PostgreSQL on
# a port of its own, RTP ports of its own: tests/bench/topology.py). A test file
# stays on one worker (its module fixtures are made once); files are handed out in collection
# order, the heavy bench directories first, so the short ones fill the end.
TEST_WORKERS ?= 2
test: venv provision lint
	mkdir -p build/test-results
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25 \
		--junitxml=build/test-results/junit.xml -p no:cacheprovider

demo: venv provision
	$(PY) scripts/demo.py

# Benchmarks (docs/benchmarks.md): the bench extra, SIPp from sip-tester, then every measurement.
bench: venv provision
	$(PY) -m pip install --quiet -e '.[test,bench]'
	command -v sipp >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq sip-tester)
	$(PY) -m benchmarks.run

# The web app's screenshots, as the browser tests took them, into docs/screenshots/.
screenshots: venv provision
	$(PY) -m pytest tests/browser -q -p no:cacheprovider
	$(PY) scripts/copy_screenshots.py

clean:
	rm -rf build .pytest_cache
