VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install lint test snapshots bench run demo

install:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -e ".[all,demo,test]"
	bash .ci/seldon-venv.sh

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# two pytest sessions at once (tests/run_halves.sh); `$(PY) -m pytest -q -rs` runs the same tests in one
test:
	bash tests/run_halves.sh $(PY)

snapshots:
	$(PY) -m pytest -q tests -k snapshot --snapshot-update

bench:
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

run:
	$(VENV)/bin/mlops-console

# the demo on a fresh clone: the venv if missing, what the demo needs, then the demo itself
# (make demo DEMO_ARGS="--reset" rebuilds its workspace)
demo:
	[ -x $(PY) ] || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -e ".[all,demo]"
	$(VENV)/bin/mlops-console demo $(DEMO_ARGS)
