"""`mlops invoke`: one prediction from an endpoint (real AWS or the local cloud)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.commands._common import add_json
from pipelines.commands._serving import add_target, target
from pipelines.console import Console


def configure(parser: argparse.ArgumentParser) -> None:
    add_target(parser)
    body = parser.add_mutually_exclusive_group(required=True)
    body.add_argument("--body", metavar="TEXT", help="the request body")
    body.add_argument("--file", metavar="PATH", help="read the request body from a file")
    parser.add_argument("--accept", metavar="MIME", help="response content type to ask for")
    parser.add_argument("--variant", metavar="NAME", help="TargetVariant: bypass the weights")
    parser.add_argument("--custom-attributes", metavar="TEXT", help="CustomAttributes header")
    add_json(parser)


def run(args: argparse.Namespace, console: Console) -> int:
    from pipelines.errors import BadInput, MlopsError
    from pipelines.traffic import Payload, invoke

    if args.file is not None:
        try:
            body = Path(args.file).read_bytes()
        except OSError as exc:
            raise BadInput(f"--file {args.file!r}: {exc.strerror or exc}") from None
    else:
        body = str(args.body).encode()
    name, runtime, _ = target(args)
    answer = invoke(
        runtime,
        name,
        Payload(body, args.content_type),
        accept=args.accept,
        variant=args.variant,
        custom_attributes=args.custom_attributes,
    )
    if answer.error_code == "ModelError":
        console.result(answer.to_json(), f"ModelError from {name}: {answer.message}")
        return 1
    if answer.error_code:
        raise (BadInput if answer.status < 500 else MlopsError)(
            f"InvokeEndpoint {name}: {answer.error_code}: {answer.message}"
        )
    text = answer.body.decode("utf-8", "replace")
    console.result(answer.to_json(), f"{text}\n(variant {answer.variant}, {answer.content_type})")
    return 0
