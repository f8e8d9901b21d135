"""Which AWS regions exist: botocore's own partition data, the list boto3 resolves endpoints from.

Used wherever a region comes from outside (``StackOutputs.region``, ``--region``, a stack
file's ``aws:region``): a value that is not a region of any AWS partition is refused before it
reaches botocore (which would fail deep inside a call, with a traceback) or a resource name.

No pulumi or boto3 import here; botocore is imported inside ``_partitions`` only, on first use,
so ``mlops --help`` never loads it. The data is botocore's ``data/endpoints.json`` read as JSON:
going through ``botocore.loaders`` would add ~100 ms of imports to every ``mlops plan``
for the same file (the loader is the fallback when the file is not where botocore keeps it).
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from pathlib import Path
from typing import Any

_SHAPE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
"""What an AWS region name looks like (``eu-west-1``, ``us-gov-west-1``, ``us-isob-east-1``)."""

_MAX_SHOWN = 200


@functools.cache
def _partitions() -> tuple[dict[str, Any], ...]:
    """The ``partitions`` of botocore's ``endpoints.json``."""
    import botocore

    data_dir = Path(botocore.__file__).parent / "data"
    plain, packed = data_dir / "endpoints.json", data_dir / "endpoints.json.gz"
    data: Any
    if plain.is_file():
        data = json.loads(plain.read_bytes())
    elif packed.is_file():
        data = json.loads(gzip.decompress(packed.read_bytes()))
    else:  # a botocore that keeps its data elsewhere
        from botocore.loaders import create_loader

        data = create_loader().load_data("endpoints")
    return tuple(data["partitions"])


@functools.cache
def known_regions() -> frozenset[str]:
    """Every region of every AWS partition botocore knows (aws, aws-cn, aws-us-gov, aws-iso…)."""
    return frozenset(region for p in _partitions() for region in p.get("regions", {}))


def partition_of(region: str) -> str | None:
    """``eu-west-1`` → ``aws``, ``cn-north-1`` → ``aws-cn``: the partition listing the region,
    else the one whose ``regionRegex`` matches it (a region newer than botocore); ``None``
    when no partition would hold it."""
    for partition in _partitions():
        if region in partition.get("regions", {}):
            return str(partition["partition"])
    for partition in _partitions():
        pattern = partition.get("regionRegex")
        if pattern and re.match(pattern, region):
            return str(partition["partition"])
    return None


def dns_suffix(region: str) -> str | None:
    """``amazonaws.com`` (``amazonaws.com.cn`` in China); ``None`` for an unknown region."""
    for partition in _partitions():
        if region in partition.get("regions", {}):
            return str(partition["dnsSuffix"])
    return None


def region_problem(region: str) -> str | None:
    """``None`` when ``region`` is an AWS region, else a sentence saying why not (the value cut
    at 200 characters) and what is allowed; for error messages that name their own field."""
    if not isinstance(region, str):
        return f"a region must be a string, got {type(region).__name__}"
    if region in known_regions():
        return None
    text = repr(region)
    if len(text) > _MAX_SHOWN:
        text = f"{text[:_MAX_SHOWN]}... ({len(region)} chars)"
    if not _SHAPE.match(region):
        return (
            f"{text} is not an AWS region name (like 'eu-west-1': lowercase letters, "
            "hyphens and a number)"
        )
    nearby = sorted(r for r in known_regions() if r.rsplit("-", 1)[0] == region.rsplit("-", 1)[0])
    hint = f"; known in that area: {', '.join(nearby)}" if nearby else ""
    return (
        f"{text} is not a region of any AWS partition botocore knows "
        f"(e.g. us-east-1, eu-west-1){hint}; a region newer than the installed botocore "
        "needs a newer boto3"
    )


def check_region(region: str) -> str:
    """``region`` when it is an AWS region; ``ValueError`` with ``region_problem`` otherwise."""
    problem = region_problem(region)
    if problem is not None:
        raise ValueError(problem)
    return region
