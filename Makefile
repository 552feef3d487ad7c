# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-browser bench smoke lint format figures clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

CLASSIC := -o sgd -o momentum -o adagrad -o adam --problem bowl --start -7,2 --steps 30 \
	--lr sgd=0.95 --lr momentum=0.1 --lr adagrad=1.5 --lr adam=0.3

## run: create the venv, install optbench, run the default comparison into results/
run: $(STAMP)
	$(BIN)/optbench run $(CLASSIC)

## test: install the test dependencies and run the whole suite (browser tests apart)
test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not browser"

## test-browser: the report and the explorer page in headless Chromium, driven by chromedriver
## (installs Debian's chromium and chromium-driver if missing)
test-browser: $(STAMP)
	[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || \
		(apt-get update && apt-get install -y chromium chromium-driver)
	$(BIN)/python -m pytest -q -m browser

## bench: the perf suite into results/: speed figures, 5 samples each, as ratios to hand-fused
## kernels measured side by side (never asserted in tests); compare two with `optbench bench compare`
bench: $(STAMP)
	$(BIN)/optbench bench --suite perf

## smoke: every optimizer × preset on the smoke problems against the committed baseline
## (exit 1 naming each regression); SMOKE_OUT=DIR keeps the results folder there
smoke: $(STAMP)
	$(BIN)/optbench bench --suite smoke --baseline benchmarks/baselines/smoke.csv \
		$(if $(SMOKE_OUT),--out $(SMOKE_OUT))

lint: $(STAMP)
	$(BIN)/ruff check optbench tests
	$(BIN)/ruff format --check optbench tests

format: $(STAMP)
	$(BIN)/ruff format optbench tests
	$(BIN)/ruff check --fix optbench tests

## figures: regenerate the curated figures the README shows (results/readme/)
figures: $(STAMP)
	rm -rf results/readme-runs && mkdir -p results/readme
	$(BIN)/optbench run $(CLASSIC) --out results/readme-runs/classic --animate
	$(BIN)/optbench run -o sgd,momentum,nesterov,adagrad,rmsprop,adam --out results/readme-runs/beale
	cp results/readme-runs/classic/trajectories.png results/readme/classic-trajectories.png
	cp results/readme-runs/classic/loss.png results/readme/classic-loss.png
	cp results/readme-runs/classic/trajectories.gif results/readme/classic-trajectories.gif
	cp results/readme-runs/beale/trajectories.png results/readme/beale-trajectories.png
	$(BIN)/optbench sweep experiments/fair.toml --out results/readme-runs/fair
	cp results/readme-runs/fair/lr_sensitivity.png results/readme/fair-lr_sensitivity.png
	cp results/readme-runs/fair/tuned_loss.png results/readme/fair-tuned_loss.png
	$(BIN)/optbench sweep -o sgd,momentum,adam -p quadratic:d=1000:kappa=1e4 --lr 1e-6..1:19 \
		--seeds 5 --noise 0.1 --steps 3000 --tune lr --out results/readme-runs/quadratic
	cp results/readme-runs/quadratic/lr_sensitivity.png results/readme/quadratic-lr_sensitivity.png
	cp results/readme-runs/quadratic/tuned_loss.png results/readme/quadratic-tuned_loss.png
	cp results/readme-runs/fair/ecdf.png results/readme/fair-ecdf.png
	$(BIN)/optbench report results/readme-runs/fair
	$(BIN)/optbench run --problem spirals -o sgd,momentum,adagrad,rmsprop,adam --out results/readme-runs/spirals
	cp results/readme-runs/spirals/curves.png results/readme/spirals-curves.png
	cp results/readme-runs/spirals/boundaries.png results/readme/spirals-boundaries.png
	$(BIN)/optbench run --problem xor --model perceptron --out results/readme-runs/xor-perceptron
	cp results/readme-runs/xor-perceptron/boundaries.png results/readme/xor-perceptron.png
	$(BIN)/optbench run --problem xor --model mlp --hidden 2 --activation sigmoid -o sgd,adam --out results/readme-runs/xor-mlp
	cp results/readme-runs/xor-mlp/boundaries.png results/readme/xor-mlp.png
	$(BIN)/optbench run -o momentum --preset torch,keras --schedule step --problem bowl --steps 200 --lr 0.05 --out results/readme-runs/schedules-momentum
	cp results/readme-runs/schedules-momentum/loss.png results/readme/schedules-momentum-loss.png
	$(BIN)/optbench sweep experiments/schedules.toml --out results/readme-runs/schedules
	cp results/readme-runs/schedules/tuned_loss.png results/readme/schedules-tuned_loss.png
	cp results/readme-runs/schedules/lr_sensitivity.png results/readme/schedules-lr_sensitivity.png

## clean: remove the venv, build files and every numba cache
clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . \( -name '*.nbi' -o -name '*.nbc' \) -delete
	rm -rf $(HOME)/.cache/optbench/numba
