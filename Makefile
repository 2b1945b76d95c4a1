# dnnlens: two commands on a fresh machine.
#   make run     set up (.venv + requirements.txt) and start the dashboard on the shipped models
#   make test    set up (+ dev requirements + Debian packages) and run the whole test suite
PORT ?= 8501
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test setup setup-dev assets lint bench serve check-findings

run: setup
	@echo "run: starting the dashboard on http://localhost:$(PORT) (Ctrl-C stops it)"
	@$(VENV)/bin/streamlit run dashboard.py --server.port $(PORT)

# Several server processes behind nginx (docs/DEPLOY.md): make serve REPLICAS=2 [PORT=8501]
REPLICAS ?= 2
serve: setup
	@scripts/serve.sh $(REPLICAS) $(PORT)

test: setup-dev
	@echo "test: running the whole suite ($(PY) -m pytest -q; about ten minutes on two cores)"
	@$(PY) -m pytest -q

setup:
	@scripts/setup.sh

setup-dev:
	@scripts/setup.sh --dev

lint: setup-dev
	$(VENV)/bin/ruff check .

# Regenerate the shipped models and samples (synthesis, then training: about four hours on 2 cores;
# scripts/build_assets.sh says what each step takes).
assets: setup-dev
	scripts/build_assets.sh

bench: setup-dev
	$(PY) bench/importance.py --quick

# Recompute every Findings card on the installed models and compare with the shipped file (exit 1
# on a difference; `make test` runs the same check for the curve cards: tests/test_findings.py).
check-findings: setup-dev
	$(PY) -m core findings --check
