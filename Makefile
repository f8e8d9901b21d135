# Two commands for a fresh machine: `make demo` and `make test`.
# uv comes from PyPI into .tools/ unless it is already on PATH; the environment is
# built from uv.lock exactly (--frozen), with the local cloud and policy extras.
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --frozen --all-extras
# Use the machine's Python (3.11+); never download one (only package registries are reachable).
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup demo test lint typecheck pytest bench plan clean

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

setup: $(if $(findstring .tools,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen --all-extras

demo: setup
	$(RUN) mlops demo

test: setup lint typecheck pytest

lint:
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck:
	$(RUN) mypy

pytest:
	$(RUN) pytest -n 2

bench: setup
	$(RUN) python -m benchmarks

plan: setup
	$(RUN) mlops plan --stack $(or $(STACK),dev)

clean:
	rm -rf .venv .tools .mypy_cache .ruff_cache
