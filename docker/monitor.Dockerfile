# The drift job's image: this project installed from uv.lock with the `monitor` extra.
# SageMaker Processing runs it as
#   python3 -m pipelines.monitoring.job --job /opt/ml/processing/input/job/job.json
# (AppSpecification.ContainerEntrypoint; `mlops monitor run --remote` sets it).
#
#   docker build -f docker/monitor.Dockerfile -t <ecr repository url>:monitor-<version> .
#   docker push <ecr repository url>:monitor-<version>
#
# The platform's ECR repository has immutable tags: a new version gets a new tag.
FROM python:3.11-slim-bookworm

ARG UV_VERSION=0.13.9
# PYTHONDONTWRITEBYTECODE is common in base images: compile at install so the job does not
# compile numpy, scipy and pyarrow on every start.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/mlops/.venv/bin:$PATH

WORKDIR /opt/mlops
RUN pip install --no-cache-dir "uv==${UV_VERSION}"

# dependencies first (cached while only the code changes), exactly as locked
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --extra monitor --no-install-project

COPY components ./components
COPY pipelines ./pipelines
COPY stacks ./stacks
COPY localcloud ./localcloud
COPY policies ./policies
COPY examples ./examples
RUN uv sync --frozen --no-dev --extra monitor --no-editable \
    && useradd --system --uid 10001 --home-dir /nonexistent mlops

USER 10001
CMD ["python3", "-m", "pipelines.monitoring.job", "--help"]
