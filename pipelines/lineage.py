"""Lineage of a model version: code (git commit), data (object versions) and image (digest)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def git_commit(cwd: Path | None = None) -> str | None:
    """HEAD of the repository around ``cwd`` (``+dirty`` with uncommitted changes), or None."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=False
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    commit = head.stdout.strip()
    return f"{commit}+dirty" if dirty.stdout.strip() else commit


def data_version(s3: S3Client, uri: str) -> dict[str, Any]:
    """The channel's exact content: a hash over (key, version id or ETag) of every object."""
    if not uri.startswith("s3://"):
        return {"uri": uri, "manifest_sha256": None, "objects": 0}
    bucket, _, prefix = uri[5:].partition("/")
    entries: list[str] = []
    try:
        paginator = s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for v in page.get("Versions", []):
                if v.get("IsLatest"):
                    entries.append(f"{v['Key']}@{v.get('VersionId') or v.get('ETag')}")
    except (ClientError, BotoCoreError):
        entries = []
    if not entries:
        try:
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for listing in pages:
                entries.extend(f"{o['Key']}@{o.get('ETag')}" for o in listing.get("Contents", []))
        except (ClientError, BotoCoreError):
            return {"uri": uri, "manifest_sha256": None, "objects": 0}
    digest = hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()
    return {"uri": uri, "manifest_sha256": digest, "objects": len(entries)}


def image_digest(ecr: Any, image: str) -> str | None:
    """``sha256:…`` of an ECR image (from the URI itself, or ECR's DescribeImages), else None."""
    if "@sha256:" in image:
        return image.split("@", 1)[1]
    repo_part, _, tag = image.rpartition(":")
    if "/" not in repo_part or ".dkr.ecr." not in repo_part:
        return None
    registry, _, repository = repo_part.partition("/")
    try:
        found = ecr.describe_images(
            registryId=registry.split(".", 1)[0],
            repositoryName=repository,
            imageIds=[{"imageTag": tag or "latest"}],
        )
    except (ClientError, BotoCoreError):
        return None
    details = found.get("imageDetails") or []
    return str(details[0]["imageDigest"]) if details else None
