"""The serving contract a registered model carries: where a framework serving container finds
its inference handlers (AWS's documented conventions for the SageMaker framework containers).

Two forms:

- **packed** (the default): the training source is repacked into ``model.tar.gz`` under
  ``code/`` and ``SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code``. It is the only form that
  works with network isolation (our default), where the container cannot reach S3; the
  SageMaker Python SDK repacks the same way when isolation is on.
- **s3**: ``SAGEMAKER_SUBMIT_DIRECTORY`` is a copy of the ``sourcedir.tar.gz`` that ``train``
  uploaded, next to the model (``<job>/serving/``; endpoint roles cannot read ``source/``); the
  container downloads it at start-up, so only endpoints without network isolation can use it.

Both set ``SAGEMAKER_PROGRAM`` (the handler script, e.g. ``inference.py``) and
``SAGEMAKER_REGION``.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from typing import Literal

PACKED_DIRECTORY = "/opt/ml/model/code"
"""Where a framework container finds code repacked into ``model.tar.gz`` under ``code/``."""
Form = Literal["packed", "s3"]
PROGRAM, SUBMIT_DIRECTORY, REGION = (
    "SAGEMAKER_PROGRAM",
    "SAGEMAKER_SUBMIT_DIRECTORY",
    "SAGEMAKER_REGION",
)


@dataclass(frozen=True)
class ServingCode:
    program: str
    submit_directory: str
    region: str

    @property
    def form(self) -> Form:
        return "packed" if self.submit_directory == PACKED_DIRECTORY else "s3"

    def environment(self) -> dict[str, str]:
        return {
            PROGRAM: self.program,
            SUBMIT_DIRECTORY: self.submit_directory,
            REGION: self.region,
        }

    @classmethod
    def from_environment(cls, env: dict[str, str]) -> ServingCode | None:
        if not env.get(PROGRAM) or not env.get(SUBMIT_DIRECTORY):
            return None
        return cls(env[PROGRAM], env[SUBMIT_DIRECTORY], env.get(REGION, ""))


def repack(model_tar_gz: bytes, source_tar_gz: bytes) -> bytes:
    """``model.tar.gz`` with every file of the source tarball added under ``code/``.

    A ``code/`` the model already has is replaced (the training source is the contract)."""
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(model_tar_gz), mode="r:gz") as model,
        tarfile.open(fileobj=io.BytesIO(source_tar_gz), mode="r:gz") as source,
        tarfile.open(fileobj=out, mode="w:gz") as packed,
    ):
        for member in model.getmembers():
            name = member.name.removeprefix("./")
            if name == "code" or name.startswith("code/"):
                continue
            packed.addfile(member, model.extractfile(member) if member.isfile() else None)
        for member in source.getmembers():
            if not member.isfile():
                continue
            member.name = f"code/{member.name.removeprefix('./')}"
            packed.addfile(member, source.extractfile(member))
    return out.getvalue()


def tar_gz(files: dict[str, bytes]) -> bytes:
    """A ``.tar.gz`` holding ``files`` (name → content)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def members(tar_gz: bytes) -> list[str]:
    """The file names inside a ``.tar.gz`` (``./`` prefixes removed)."""
    with tarfile.open(fileobj=io.BytesIO(tar_gz), mode="r:gz") as tar:
        return [m.name.removeprefix("./") for m in tar.getmembers() if m.isfile()]
