"""`mlops register`: a model package from a completed training job, through the quality gate."""

from __future__ import annotations

import argparse

from pipelines.commands._common import add_pipeline_args, open_context
from pipelines.console import Console


def label_column(text: str) -> int | None:
    """An argparse ``type``: a column index from 0, or ``none``."""
    if text.lower() == "none":
        return None
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a column index (0, 1, …) or 'none'")
    return int(text)


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
    parser.add_argument(
        "--no-baseline",
        dest="baseline",
        action="store_false",
        help="record no drift baseline (default: one from the job's train channel, stored "
        "next to its artifacts and named in the package's DriftCheckBaselines)",
    )
    parser.add_argument(
        "--baseline-label-column",
        type=label_column,
        default=0,
        metavar="N|none",
        help="the train channel's label column, left out of the baseline (default 0: "
        "SageMaker's label-first CSV convention; 'none' when the data has no label)",
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
        baseline=args.baseline,
        label_column=args.baseline_label_column,
    )
    arn = result.package.arn if result.package else None
    console.result(result.to_json(), f"registered {arn} as {result.approval_status}")
    return 0
