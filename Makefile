# Quick start: `make demo` then `make test`. Needs only python3 (3.11+).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DEMO_DATA := data/southampton
DEMO_OUT  := out/southampton

.PHONY: venv demo test test-fast lint bench screenshots clean

venv: $(STAMP)

# Installs the exact versions in requirements.lock, then the project itself (editable).
$(STAMP): requirements.lock pyproject.toml
	@echo "Creating $(VENV) from requirements.lock (about 90 s the first time)..."
	@$(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --disable-pip-version-check -q -r requirements.lock > $(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log; echo "dependency install failed (log: $(VENV)/install.log)"; exit 1; }
	@$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e . >> $(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log; echo "project install failed"; exit 1; }
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/reoffend demo --data $(DEMO_DATA) --out $(DEMO_OUT)

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadfile

# ruff, configured in pyproject.toml; CI runs it before the tests.
lint: $(STAMP)
	$(PY) -m ruff check .

test-fast: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadfile -m "not slow and not server"

# Benchmark-only extras (psmpy, for the side-by-side match) come from their own lock file.
bench: $(STAMP)
	@$(PY) -m pip install --disable-pip-version-check -q -r requirements-bench.lock > $(VENV)/bench-install.log 2>&1 \
		|| { cat $(VENV)/bench-install.log; exit 1; }
	$(VENV)/bin/reoffend bench --out benchmarks/results/bench.json

# docs/img/: the demo's analyst and partner reports, on screen and as A4 pages, and its evidence library.
screenshots: $(STAMP)
	$(VENV)/bin/reoffend demo --quiet --data $(DEMO_DATA) --out $(DEMO_OUT)
	$(VENV)/bin/reoffend evaluate studies/southampton.toml --audience partner --out out/southampton-partner --quiet
	$(PY) tools/screenshots.py analyst=$(DEMO_OUT)/report.html partner=out/southampton-partner/report.html \
		library=out/library/site/index.html

clean:
	rm -rf $(VENV) data out .prefect .pytest_cache test-artifacts
