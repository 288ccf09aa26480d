# mmgan — the two commands a newcomer needs: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
# ffmpeg: mp3/ogg decoding for audioread and torchcodec (HF `datasets`);
# fluid-soundfont-gm: the optional General MIDI SoundFont renderer;
# chromium: the browser the demo's end-to-end tests drive (Playwright, headless).
APT_PKGS := ffmpeg fluid-soundfont-gm chromium
HOST ?= 127.0.0.1
PORT ?= 7860
PYTEST_ARGS ?=
LINT_DIRS := $(wildcard mmgan tests benchmarks demos datasets/fixtures/make_fixtures.py)

.PHONY: setup test lint demo lab clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then echo "apt-get install$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi; \
	else echo "note: not root, skipping system packages ($(APT_PKGS)); install them for mp3 and SoundFont support"; fi
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@# tinysoundfont depends on PyAudio (needs PortAudio headers) only for playback; we only render.
	$(BIN)/python -m pip install -q --no-deps tinysoundfont
	touch $@

lint: setup
	$(BIN)/ruff check $(LINT_DIRS)
	$(BIN)/ruff format --check $(LINT_DIRS)

test: setup lint
	MMGAN_FAST=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

demo: setup
	$(BIN)/mmgan demo --host $(HOST) --port $(PORT)

lab: setup
	$(BIN)/jupyter lab --ip 127.0.0.1 --no-browser $(if $(filter 0,$(shell id -u)),--allow-root,) notebooks/

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
