# Two commands for a fresh machine: `make demo` and `make test`.
# uv comes from PyPI into .tools/ unless it is already on PATH; the environment is
# built from uv.lock exactly (--frozen), with the local cloud and policy extras.
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --frozen --all-extras
# Use the machine's Python (3.11+); never download one (only package registries are reachable).
export UV_PYTHON_DOWNLOADS := never
# Installs write bytecode: `[tool.uv] compile-bytecode` in pyproject.toml (uv sync, and the Pulumi
# CLI's uv toolchain, read it). With PYTHONDONTWRITEBYTECODE=1, as in many CI images, nothing
# else would, and every process would compile pulumi_aws from source again.
# When this `make` started: the test suite's summary reports how long `make test` took.
export MLOPS_MAKE_STARTED := $(shell date +%s)
SOURCES := components pipelines stacks localcloud policies examples benchmarks tests

.PHONY: setup demo test lint typecheck pytest bench plan clean

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

setup: $(if $(findstring .tools,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen --all-extras
	@# The project itself is installed editable, so uv compiles only site-packages: compile ours too.
	@.venv/bin/python -m compileall -q -j 0 $(SOURCES)

demo: setup
	$(RUN) mlops demo

test: setup lint typecheck pytest

lint:
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck:
	$(RUN) mypy

pytest:
	$(RUN) pytest -n 2 --durations=10

bench: setup
	$(RUN) python -m benchmarks

plan: setup
	$(RUN) mlops plan --stack $(or $(STACK),dev)

clean:
	rm -rf .venv .tools .mypy_cache .ruff_cache
