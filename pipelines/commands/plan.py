"""`mlops plan`: evaluate a stack offline (Pulumi's mock runtime) and list what it declares.

No Pulumi CLI, no AWS credentials: the real stack program runs with the stack file's
config (``stacks.offline.run_offline``). ``--json`` prints one object::

    {"stack": str, "resources": [{"type", "name", "inputs"}], "outputs": {...},
     "warnings": [...], "violations": [{"policy", "resource", "level", "message"}]}

The security policy pack (``policies``) runs over the planned resources: exit 1 when a
mandatory rule fails, 2 on a configuration error, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.commands._common import add_json, add_stack
from pipelines.console import Console
from pipelines.errors import BadInput, MlopsError

if TYPE_CHECKING:
    from policies import Violation
    from stacks.offline import OfflineRun

DEFAULT_STACK = "dev"


def configure(parser: argparse.ArgumentParser) -> None:
    add_stack(parser, required=False)
    add_json(parser)
    parser.add_argument(
        "--preview",
        action="store_true",
        help="plan like `pulumi preview` of a new stack: ids and ARNs only a deployment "
        "creates are reported as unknown",
    )
    parser.add_argument(
        "--stacks-dir",
        metavar="DIR",
        type=Path,
        help="where the Pulumi.<ENV>.yaml files are (default: stackConfigDir of the nearest "
        "Pulumi.yaml above the current directory)",
    )


def _sorted(value: Any) -> Any:
    """Inputs arrive as unordered maps from the engine: sort keys for stable output."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def plan_payload(
    run: OfflineRun, violations: list[Violation] | None = None, *, components: bool = True
) -> dict[str, Any]:
    """The ``--json`` object for an offline run (resources sorted by name, then type)."""
    from policies import report

    resources = sorted(
        (r for r in run.resources if components or r.custom),
        key=lambda r: (r.name, r.type),
    )
    return {
        "stack": run.stack,
        "resources": [
            {"type": r.type, "name": r.name, "inputs": _sorted(r.inputs)} for r in resources
        ],
        "outputs": run.outputs,
        "warnings": list(run.warnings),
        "violations": report.as_json(violations or []),
    }


def short_type(token: str) -> str:
    """``aws:s3/bucketPolicy:BucketPolicy`` → ``aws:s3:BucketPolicy`` (for the table)."""
    parts = token.split(":")
    if len(parts) == 3 and "/" in parts[1]:
        return f"{parts[0]}:{parts[1].split('/')[0]}:{parts[2]}"
    return token


def render(payload: dict[str, Any], run: OfflineRun, violations: list[Violation]) -> str:
    """The human-readable plan: a resource table, the outputs, warnings, policy results."""
    from policies import report

    custom = [r for r in payload["resources"] if not r["type"].startswith("mlops:")]
    lines = [
        f"stack {run.stack} ({run.project}, environment {run.config.environment.value}, "
        f"{run.region}) from {run.source}"
        + (" [preview: unknown values are only known after deployment]" if run.preview else ""),
        f"{len(custom)} resources in {len(payload['resources']) - len(custom)} components:",
    ]
    width = max((len(r["name"]) for r in payload["resources"]), default=0)
    for r in payload["resources"]:
        lines.append(f"  {r['name']:<{width}}  {short_type(r['type'])}")
    lines.append("outputs:")
    for key, value in payload["outputs"].items():
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=False)
        lines.append(f"  {key}: {text}")
    for warning in payload["warnings"]:
        lines.append(f"warning: {warning}")
    lines.extend(report.render(violations))
    return "\n".join(lines)


def run(args: argparse.Namespace, console: Console) -> int:
    import policies
    from components.config import ConfigError
    from stacks.offline import run_offline

    stack = args.stack or DEFAULT_STACK
    try:
        result = run_offline(stack, preview=args.preview, stacks_dir=args.stacks_dir)
    except ConfigError as exc:
        raise BadInput(str(exc)) from None
    except MlopsError:
        raise
    except Exception as exc:  # the stack program itself failed
        raise MlopsError(f"stack {stack}: the stack program failed: {exc}") from exc
    # Absent references count as unset, not unknown: the offline plan marks real unknowns.
    # The run uses the default PlatformMocks, whose account is DEFAULT_ACCOUNT_ID.
    from components.naming import prefix
    from stacks.offline import DEFAULT_ACCOUNT_ID

    environment = result.config.environment.value
    violations = policies.evaluate(
        result.resources,
        environment,
        missing_is_unknown=False,
        account_id=DEFAULT_ACCOUNT_ID,
        trusted_accounts=result.config.registry.cross_account_ids,
        name_prefix=prefix(result.project, environment),
    )
    payload = plan_payload(result, violations)
    console.result(payload, human=render(payload, result, violations))
    return policies.report.exit_code(violations)
