# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	@for f in examples/*.json; do \
		echo "== $$f"; \
		$(BIN)/yibao settle $$f --explain || exit 1; \
	done
	@echo "== a unit's contribution bill (Qingdao, employer rate cut window)"
	@$(BIN)/yibao contributions unit examples/contributions/qingdao_unit.json --period 2021-06 --format text
	@echo "== a stay paid by DRG"
	@$(BIN)/yibao payment drg examples/payment/stay_pci.json --format text
	@echo "== a settlement over HTTP (yibao serve, national transactions 1101 / 2207 / 2208)"
	@$(BIN)/python scripts/http_demo.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

test: $(STAMP) lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/service.py
	$(BIN)/python benchmarks/batch.py
	$(BIN)/python benchmarks/supervision.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .hypothesis
