"""`mlops register`: a model package from a completed training job, through the quality gate."""

from __future__ import annotations

import argparse

from pipelines.commands._common import add_pipeline_args, open_context
from pipelines.console import Console


def configure(parser: argparse.ArgumentParser) -> None:
    add_pipeline_args(parser)
    parser.add_argument("--training-job", required=True, metavar="NAME")
    parser.add_argument("--image", help="inference image (default: the training image)")
    parser.add_argument(
        "--content-type",
        action="append",
        metavar="MIME",
        help="supported content type (default text/csv)",
    )
    parser.add_argument(
        "--serving-code",
        choices=("packed", "s3"),
        default="packed",
        help="packed (default): the inference code repacked into model.tar.gz under code/, the "
        "form that works with network isolation; s3: the container downloads the training "
        "source tarball (endpoints without network isolation only)",
    )


def run(args: argparse.Namespace, console: Console) -> int:
    from pipelines.registry import register

    ctx = open_context(args, console)
    result = register(
        ctx,
        args.training_job,
        image=args.image,
        content_types=args.content_type,
        serving_form=args.serving_code,
    )
    arn = result.package.arn if result.package else None
    console.result(result.to_json(), f"registered {arn} as {result.approval_status}")
    return 0
