"""What `mlops invoke` and `mlops traffic` share: which endpoint, on which runtime client."""

from __future__ import annotations

import argparse
from typing import Any

from pipelines.commands._common import add_outputs_source, add_stack, aws_region, region_of


def add_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint",
        required=True,
        metavar="NAME",
        help="the SageMaker endpoint name, or its short name in the stack file with --stack",
    )
    add_stack(parser, required=False)
    add_outputs_source(parser)
    parser.add_argument(
        "--region", type=aws_region, help="default: the stack's region, else AWS_REGION"
    )
    parser.add_argument(
        "--content-type", default="text/csv", metavar="MIME", help="default text/csv"
    )


def target(args: argparse.Namespace) -> tuple[str, Any, Any]:
    """(SageMaker endpoint name, sagemaker-runtime client, the cloud's clock)."""
    from pipelines.aws import Aws, endpoint_url
    from pipelines.clock import clock_for

    name, outputs = str(args.endpoint), None
    if args.stack or args.outputs:
        from pipelines.outputs import load_outputs

        outputs = load_outputs(args.stack, args.outputs)
        known = {spec.name: spec.endpoint_name for spec in outputs.endpoints}
        name = known.get(name, name)
    region = region_of(args.region, outputs)
    endpoint = endpoint_url()
    return (
        name,
        Aws(region=region, endpoint=endpoint).client("sagemaker-runtime"),
        clock_for(endpoint),
    )
