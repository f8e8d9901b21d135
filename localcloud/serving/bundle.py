"""A SageMaker Model as a framework serving container would see it, laid out on local disk.

The container's ``Environment`` says where the handler script is (AWS's conventions):
``SAGEMAKER_PROGRAM`` + ``SAGEMAKER_SUBMIT_DIRECTORY`` = ``/opt/ml/model/code`` (code packed
into ``model.tar.gz``) or an ``s3://`` source tarball the container downloads at start; or,
without them, ``code/inference.py`` inside ``model.tar.gz`` (PyTorch/TensorFlow style).
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

from localcloud import s3io
from localcloud.serving.pool import Bundle

PACKED_DIRECTORY = "/opt/ml/model/code"
HEALTH_CHECK_FAILED = (
    'The primary container for production variant "{variant}" did not pass the ping health '
    "check. Please check CloudWatch logs for this endpoint."
)


def container(model: Any) -> dict[str, Any]:
    return dict(model.primary_container or (model.containers or [{}])[0] or {})


def unreachable_code(model: Any) -> str | None:
    """Why the container could not fetch its inference code, if it could not: an ``s3://``
    source tarball under network isolation (no outbound network, S3 included)."""
    env = container(model).get("Environment") or {}
    submit = str(env.get("SAGEMAKER_SUBMIT_DIRECTORY", ""))
    if submit.startswith("s3://") and getattr(model, "enable_network_isolation", False):
        return (
            f"SAGEMAKER_SUBMIT_DIRECTORY is {submit} but the model runs with network isolation: "
            "the container cannot download its inference code (pack it into model.tar.gz under "
            "code/ with SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code)"
        )
    return None


def _extract(data: bytes, into: Path, what: str) -> None:
    into.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            tar.extractall(into, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise ValueError(f"{what} is not a readable tar.gz archive ({exc})") from None


def prepare(s3: Any, model: Any, into: Path) -> Bundle:
    """Download and unpack ``model`` under ``into``; ``ValueError`` (or ``FileNotFoundError``)
    says why a container could not serve it."""
    spec = container(model)
    env = spec.get("Environment") or {}
    model_dir = into / "model"
    url = spec.get("ModelDataUrl")
    if url:
        _extract(s3io.read(s3, str(url)), model_dir, f"the model data {url}")
    else:
        model_dir.mkdir(parents=True, exist_ok=True)
    program = env.get("SAGEMAKER_PROGRAM")
    submit = str(env.get("SAGEMAKER_SUBMIT_DIRECTORY", ""))
    if program and submit.startswith("s3://"):
        code_dir = into / "code"
        _extract(s3io.read(s3, submit), code_dir, f"SAGEMAKER_SUBMIT_DIRECTORY {submit}")
    elif program:
        code_dir = model_dir / "code" if submit in ("", PACKED_DIRECTORY) else Path(submit)
    elif (model_dir / "code" / "inference.py").is_file():
        code_dir, program = model_dir / "code", "inference.py"
    else:
        raise ValueError(
            "the local cloud runs the SageMaker framework serving contract and found no handler "
            "script: set SAGEMAKER_PROGRAM (+ SAGEMAKER_SUBMIT_DIRECTORY) in the container's "
            "Environment, or put code/inference.py into model.tar.gz"
        )
    if not (code_dir / program).is_file():
        raise ValueError(f"the handler script {program} is not in {submit or 'code/'}")
    return Bundle(model_dir=model_dir, code_dir=code_dir, program=program)
