VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install lint test snapshots bench run

install:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -e ".[all,test]"
	bash .ci/seldon-venv.sh

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test:
	$(PY) -m pytest -q -rs

snapshots:
	$(PY) -m pytest -q tests -k snapshot --snapshot-update

bench:
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

run:
	$(VENV)/bin/mlops-console
