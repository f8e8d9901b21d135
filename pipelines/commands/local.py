"""`mlops local serve`: run the local cloud in the foreground.

Starts moto on 127.0.0.1 extended with SageMaker's rollout and training behaviour
(``localcloud.LocalCloud``), materialises the stack into it from the real stack program
(``localcloud.materialise``: outputs in ``.mlops/local/outputs-<stack>.json``), prints
the endpoint and the environment lines to export, and serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import threading

from pipelines.commands._common import MAX_SPEED, add_json, port, positive
from pipelines.console import Console
from pipelines.errors import ExitCode, LocalCloudUnavailable

DEFAULT_PORT = 4750
DEFAULT_SPEED = 600.0
DEFAULT_STACK = "local"


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="local_action", metavar="ACTION")
    serve = actions.add_parser(
        "serve",
        help="serve the local cloud in the foreground (Ctrl-C stops it)",
        description="Serve the local cloud on 127.0.0.1 in the foreground, with the stack's "
        "resources materialised into it. Ctrl-C stops it; nothing is kept.",
    )
    serve.add_argument(
        "--port",
        type=port,
        default=DEFAULT_PORT,
        help=f"TCP port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    serve.add_argument(
        "--speed",
        type=positive(maximum=MAX_SPEED, unit="simulated seconds per second"),
        default=DEFAULT_SPEED,
        help=f"simulated seconds per real second, above 0 and at most {MAX_SPEED:g} (default 600: a "
        "10-minute canary bake lasts 1 s); compression changes durations, never outcomes",
    )
    serve.add_argument(
        "--stack",
        default=DEFAULT_STACK,
        metavar="ENV",
        help=f"the stack to materialise: stacks/Pulumi.<ENV>.yaml (default {DEFAULT_STACK})",
    )
    serve.add_argument(
        "--empty", action="store_true", help="serve an empty cloud (no stack materialised)"
    )
    add_json(serve)


def run(args: argparse.Namespace, console: Console) -> int:
    if getattr(args, "local_action", None) != "serve":
        console.error("usage: mlops local serve [--port N] [--speed X] [--stack ENV] [--empty]")
        return int(ExitCode.BAD_INPUT)
    try:
        from localcloud import LocalCloud
        from localcloud.materialise import materialise_run
    except ImportError as exc:
        raise LocalCloudUnavailable(
            f"the local cloud needs the 'local' extra (moto[server]): uv sync --all-extras ({exc})"
        ) from exc
    cloud = LocalCloud(port=args.port, speed=args.speed)
    try:
        cloud.start()
    except OSError as exc:
        raise LocalCloudUnavailable(
            f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}; "
            "pick another --port (0 picks a free one)"
        ) from exc
    try:
        payload: dict[str, object] = {
            "endpoint_url": cloud.endpoint_url,
            "speed": cloud.clock.speed,
            "env": cloud.env(),
        }
        lines = [f"local cloud on {cloud.endpoint_url} (speed {cloud.clock.speed:g}x)"]
        if not args.empty:
            done = materialise_run(cloud, args.stack)
            payload.update(
                stack=args.stack,
                outputs_file=str(done.outputs_file),
                created=len(done.created),
                skipped=done.skipped,
            )
            lines.append(
                f"stack {args.stack}: {len(done.created)} resources created, "
                f"outputs in {done.outputs_file}"
            )
            lines += [f"  skipped {item}" for item in done.skipped]
        lines.append("export these to point boto3 and mlops at it:")
        lines += [f"export {key}={value}" for key, value in cloud.env().items()]
        lines.append("Ctrl-C stops it.")
        console.result(payload, "\n".join(lines))
        threading.Event().wait()
    except KeyboardInterrupt:
        console.info("local cloud stopped")
    finally:
        cloud.stop()
    return int(ExitCode.OK)
