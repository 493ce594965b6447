# tsdash — `make run` to start the dashboard, `make test` to run the whole suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DB     := data/tsdash.sqlite
PORT   ?= 8501

.PHONY: install run demo simulate test test-fast bench lint clean

# The editable install compiles tsdash's bytecode as a regular install would: with
# PYTHONDONTWRITEBYTECODE set, every process would otherwise compile ~20 modules (30-40 ms).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m compileall -q src/tsdash
	touch $(STAMP)

install: $(STAMP)

# The demo database is generated (never downloaded) when it is missing.
$(DB): | $(STAMP)
	$(PY) -m tsdash.cli demo --out $(DB)

run: $(STAMP) $(DB)
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.address 127.0.0.1

# Regenerate the demo data anchored to the current time.
demo: $(STAMP)
	$(PY) -m tsdash.cli demo --out $(DB)

# Keep the demo database moving (new cases, assignments, resolutions) for the Live workload page.
simulate: $(STAMP) $(DB)
	$(PY) -m tsdash.cli simulate --source sqlite:///$(abspath $(DB))

# Two passes: everything but the browser on both cores, then the real-browser tests on their own
# (each drives a Streamlit server and Chromium; they need the cores to themselves to stay fast).
test: $(STAMP) $(DB)
	$(PY) -m pytest -n 2 --dist loadgroup -q -m "not browser"
	$(PY) -m pytest -q -m browser

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not browser"

bench: $(STAMP)
	$(PY) -m compileall -q src/tsdash
	$(PY) benchmarks/run.py

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks app.py pages
	$(PY) -m ruff format --check src tests benchmarks app.py pages

clean:
	rm -rf $(VENV) $(DB) tests/artifacts .pytest_cache
