"""SageMaker ML instance families, by what they are good for.

The lists follow botocore's SageMaker service model (``ProductionVariantInstanceType``
and ``TrainingInstanceType``); ``tests/unit/test_instance_types.py`` checks them
against the installed model so a new family shows up as a failing test, not a
silent refusal.
"""

from __future__ import annotations

import re

GPU_FAMILIES: frozenset[str] = frozenset(
    {
        "g4dn",
        "g5",
        "g6",
        "g6e",
        "g7",
        "g7e",
        "p2",
        "p3",
        "p3dn",
        "p4d",
        "p4de",
        "p5",
        "p5e",
        "p5en",
        "p6-b200",
        "p6-b300",
        "p6e-gb200",
    }
)
"""NVIDIA GPU families."""

ACCELERATOR_FAMILIES: frozenset[str] = frozenset({"inf1", "inf2", "trn1", "trn1n", "trn2"})
"""AWS Inferentia / Trainium families (accelerated, but not CUDA GPUs)."""

FALLBACK_FAMILIES: frozenset[str] = frozenset({"inf1"})
"""Families on which SageMaker ignores canary/linear traffic shifting (all at once, no bake)."""

CPU_FAMILIES: frozenset[str] = frozenset(
    {
        "t2",
        "t3",
        "m4",
        "m5",
        "m5d",
        "m6g",
        "m6gd",
        "m6i",
        "m6id",
        "m7i",
        "c4",
        "c5",
        "c5d",
        "c6g",
        "c6gd",
        "c6gn",
        "c6i",
        "c6id",
        "c7g",
        "c7i",
        "r5",
        "r5d",
        "r6g",
        "r6gd",
        "r6i",
        "r6id",
        "r7g",
        "r7i",
        "r8g",
        "x1",
    }
)

LOCAL_NVME_FAMILIES: frozenset[str] = frozenset(
    {
        "c5d",
        "c6id",
        "m5d",
        "m6id",
        "r5d",
        "r6id",
        "g4dn",
        "g5",
        "g6",
        "g6e",
        "p3dn",
        "p4d",
        "p4de",
        "p5",
        "p5e",
        "p5en",
        "trn1",
        "trn1n",
    }
)
"""Families with local NVMe instance storage. Those volumes are hardware-encrypted and
CreateEndpointConfig *fails* when KmsKeyId is given for them (SageMaker API reference)."""

PROCESSING_FAMILIES: frozenset[str] = frozenset(
    {
        "c4",
        "c5",
        "c6i",
        "c7i",
        "c7i-flex",
        "c8i",
        "c8i-flex",
        "g4dn",
        "g5",
        "g6",
        "g6e",
        "g7",
        "g7e",
        "m4",
        "m5",
        "m6i",
        "m7i",
        "m7i-flex",
        "m8i",
        "m8i-flex",
        "p2",
        "p3",
        "p5",
        "r5",
        "r5d",
        "r6i",
        "r7i",
        "r8i",
        "r8i-flex",
        "t3",
    }
)
"""Families SageMaker Processing offers (botocore's ``ProcessingInstanceType``): the drift job
runs on one of these."""

_INSTANCE_RE = re.compile(r"^ml\.(?P<family>[a-z0-9-]+)\.(?P<size>[a-z0-9]+)$")


def family_of(instance_type: str) -> str | None:
    """``ml.g5.xlarge`` → ``g5``; ``None`` when it is not an ``ml.<family>.<size>`` name."""
    match = _INSTANCE_RE.match(instance_type)
    return match.group("family") if match else None


def has_local_nvme(instance_type: str) -> bool:
    """True when SageMaker refuses an EndpointConfig KmsKeyId for this instance type."""
    return family_of(instance_type) in LOCAL_NVME_FAMILIES


def is_gpu(instance_type: str) -> bool:
    return family_of(instance_type) in GPU_FAMILIES


def is_known(instance_type: str) -> bool:
    family = family_of(instance_type)
    return family is not None and family in GPU_FAMILIES | ACCELERATOR_FAMILIES | CPU_FAMILIES


def is_processing(instance_type: str) -> bool:
    """A type SageMaker Processing runs jobs on (``ml.m5.xlarge``; not ``ml.inf2.xlarge``)."""
    return family_of(instance_type) in PROCESSING_FAMILIES


def describe_processing() -> str:
    """The processing families, for error messages."""
    return ", ".join(f"ml.{f}.*" for f in sorted(PROCESSING_FAMILIES))


def describe_allowed(*, allow_cpu: bool) -> str:
    """The families a user may pick, for error messages."""
    gpu = ", ".join(f"ml.{f}.*" for f in sorted(GPU_FAMILIES))
    acc = ", ".join(f"ml.{f}.*" for f in sorted(ACCELERATOR_FAMILIES))
    text = f"a SageMaker ML GPU instance ({gpu}) or accelerator ({acc})"
    if allow_cpu:
        text += f", or a CPU instance ({', '.join(f'ml.{f}.*' for f in sorted(CPU_FAMILIES))})"
    else:
        text += "; CPU types need allow_cpu: true"
    return text
