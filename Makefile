# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-browser bench lint format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: create the venv, install optbench, run the default comparison into results/
run: $(STAMP)
	$(BIN)/optbench run -o sgd -o momentum -o nesterov -o adagrad -o rmsprop -o adam \
		--problem bowl --start -7,2 --steps 60 \
		--lr sgd=0.95 --lr momentum=0.1 --lr nesterov=0.1 --lr adagrad=1.5 --lr rmsprop=0.3 --lr adam=0.3

## test: install the test dependencies and run the whole suite (browser tests apart)
test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not browser"

## test-browser: render the report in headless Chromium (installs Debian's chromium if missing)
test-browser: $(STAMP)
	[ -x /usr/bin/chromium ] || (apt-get update && apt-get install -y chromium)
	$(BIN)/python -m pytest -q -m browser

## bench: speed benchmarks (ratios measured side by side; never asserted in tests)
bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check optbench tests benchmarks
	$(BIN)/ruff format --check optbench tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format optbench tests benchmarks
	$(BIN)/ruff check --fix optbench tests benchmarks

## clean: remove the venv, build files and every numba cache
clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . \( -name '*.nbi' -o -name '*.nbc' \) -delete
