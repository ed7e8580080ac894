# Two commands for a newcomer: `make report` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: report real test docs lint format lab workshop sample bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the package's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

## make report: execute every notebook on the sample company and write reports/index.html
report: $(VENV)/.installed
	$(BIN)/salesmkt report --data data/sample --out reports

## make real: the reports on two real public data sets (Olist marketing funnel, UCI bank
## marketing) read through column mappings from REAL_DATA; writes reports/real.html
REAL_DATA ?= ../shared/data/real
real: $(VENV)/.installed
	$(BIN)/python -m salesmkt.reports.real --data $(REAL_DATA) --out reports

## make test: lint, then the whole test suite (unit, doctests, notebooks, reports)
# --dist loadfile keeps each test file on one worker, so a module's fixtures (a PostgreSQL
# server, the real-data reports) start once; the sample reports are shared by both workers
# through a file lock (tests/conftest.py). The slow files run first (tests/conftest.py orders
# them; --no-loadscope-reorder in pyproject.toml keeps that order) so that the quick ones fill
# in at the end and both workers finish together. The guided notebooks run apart, validated by
# nbval, one notebook per worker so its cells run in order in one kernel.
test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15 tests salesmkt
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=5 notebooks

## make docs: the documentation site (semantics, API reference, chart gallery) into
## docs/_build/html; open docs/_build/html/index.html
docs: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	MPLBACKEND=Agg $(BIN)/python -m sphinx -b html -W --keep-going docs docs/_build/html

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## make lab: open the guided notebooks in JupyterLab
lab: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[lab]"
	$(BIN)/jupyter lab notebooks

## make workshop: the persona workshop as a web page on the sample company (no code cells;
## open the address it prints). Names and notes are saved to workshop/personas.yml.
workshop: $(VENV)/.installed
	$(BIN)/salesmkt workshop --file workshop/personas.yml

## make sample: rebuild data/sample from the seeded generator (byte for byte)
sample: $(VENV)/.installed
	$(BIN)/python -m salesmkt.sample --out data/sample

## make bench: the side-by-side benchmarks (see benchmarks/README.md)
bench: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf reports .pytest_cache build dist docs/_build docs/auto_gallery docs/api/generated \
		docs/sg_execution_times.rst
