# pjsim: every target creates .venv if missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow bench bench-speed bench-lecture bench-peers install browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch is pinned to the CPU build first, so the range in pyproject.toml installs nothing more.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# The browser tests drive Debian's chromium through chromium-driver (never a downloaded browser build)
# and render the printed PDF's pages with poppler-utils (pdftoppm, pdftotext).
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || [ ! -x /usr/bin/pdftoppm ]; then \
		if [ "$$(id -u)" = "0" ]; then \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver poppler-utils; \
		else \
			echo "chromium/chromium-driver/poppler-utils missing: run as root or 'sudo apt-get install chromium chromium-driver poppler-utils'" >&2; \
		fi; \
	fi

demo: $(STAMP)
	$(BIN)/pjsim demo

test: $(STAMP) browser
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

bench: $(STAMP) browser
	$(BIN)/python -m benchmarks.run

# Speed and memory benchmarks only (minutes).
bench-speed: $(STAMP) browser
	$(BIN)/python -m benchmarks.run baseline trace profiles memsim kmeans report sweep startup speed

# The lecture reproductions on full MNIST (tens of minutes on 2 cores; trained weights cached in ~/.cache/pjsim/bench).
# The trained lecture benchmarks run torch's AVX2 kernels on every x86-64 CPU, so seeded runs repeat bit for bit
# (benchmarks/_kernels.py).
bench-lecture: $(STAMP)
	$(BIN)/python -m benchmarks._kernels benchmarks.run deep_compression distillation lottery lowrank_binary

# The real peers side by side (SCALE-Sim, ZigZag) in their own virtual environment (numpy 2.4 crashes SCALE-Sim;
# ZigZag imports six without declaring it); their outputs are cached in benchmarks/results/peers/*.json.
PEERS_VENV := .venv-peers
$(PEERS_VENV)/bin/python:
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/pip install --quiet "zigzag-dse==3.9.1" six "scalesim==3.0.0" "numpy==2.3.5"

bench-peers: $(STAMP) $(PEERS_VENV)/bin/python
	$(BIN)/python -m benchmarks.bench_peers --run-peers

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
