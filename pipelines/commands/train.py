"""`mlops train`: a SageMaker training job from the stack's defaults; waits for the verdict."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.commands._common import (
    add_pipeline_args,
    key_values,
    open_context,
    training_instance_type,
)
from pipelines.console import Console


def configure(parser: argparse.ArgumentParser) -> None:
    add_pipeline_args(parser)
    parser.add_argument("--image", required=True, help="training container image URI")
    parser.add_argument("--entry-point", metavar="FILE", help="script in --source-dir to run")
    parser.add_argument(
        "--source-dir",
        metavar="DIR",
        help="directory packed and uploaded as the job's code, less what its .gitignore and "
        ".mlopsignore and the defaults (.git/, .venv/, __pycache__/, ...) leave out; files that "
        "look like secrets (.env, *.pem, credentials, ...) are refused",
    )
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="PATH",
        help="a file or directory in --source-dir to pack even though it is ignored or looks "
        "like a secret (repeatable; recorded in the lineage)",
    )
    parser.add_argument(
        "--hyperparameter", "-p", action="append", metavar="NAME=VALUE", help="repeatable"
    )
    parser.add_argument(
        "--channel", action="append", metavar="NAME=S3URI", help="data channel (repeatable)"
    )
    parser.add_argument(
        "--metric", action="append", metavar="NAME=REGEX", help="metric definition (repeatable)"
    )
    parser.add_argument("--job-name", help="default: <project>-<environment>-<UTC time>")
    parser.add_argument(
        "--instance-type",
        type=training_instance_type,
        help="override the stack's training instance type (a SageMaker ML instance type)",
    )
    parser.add_argument(
        "--inference-entry-point",
        metavar="FILE",
        help="script in --source-dir with the serving handlers (model_fn, input_fn, predict_fn, "
        "output_fn); default inference.py when there is one",
    )


def run(args: argparse.Namespace, console: Console) -> int:
    from pipelines.source_pack import human_bytes
    from pipelines.training import TrainRequest, train

    ctx = open_context(args, console)
    req = TrainRequest(
        image=args.image,
        entry_point=args.entry_point,
        source_dir=Path(args.source_dir) if args.source_dir else None,
        hyperparameters=key_values(args.hyperparameter, "--hyperparameter"),
        channels=key_values(args.channel, "--channel"),
        metric_definitions=key_values(args.metric, "--metric"),
        job_name=args.job_name,
        instance_type=args.instance_type,
        inference_entry_point=args.inference_entry_point,
        include=tuple(args.include),
    )
    result = train(ctx, req)
    metrics = ", ".join(f"{k}={v:g}" for k, v in sorted(result.metrics.items())) or "none"
    source = ""
    if result.source is not None:
        s = result.source
        source = (
            f"  source: {s['files']} files, {human_bytes(s['bytes'])}, "
            f"{s['excluded']} left out, sha256 {s['sha256'][:12]}\n"
        )
    console.result(
        result.to_json(),
        f"training job {result.job_name} Completed\n  model: {result.model_data_url}\n"
        f"  metrics: {metrics}\n{source}"
        f"  next: mlops register --stack {ctx.stack} --training-job {result.job_name}",
    )
    return 0
