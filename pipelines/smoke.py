"""The deploy smoke check: sample payloads invoked right after a successful rollout.

Every payload must be answered (no ``ModelError``, no error at all). A failure after an
update rolls the endpoint back to the config it came from through the same guarded
UpdateEndpoint and watcher as ``mlops rollback``, and is reported as rolled back (exit 3);
after a create there is nothing to return to, so it fails (exit 1) and the endpoint stays for
a person to look at. Both outcomes are audit records (``smoke``).
"""

from __future__ import annotations

from typing import Any

from pipelines.context import Context
from pipelines.deploy import DeployResult, deploy, rollback
from pipelines.errors import MlopsError, RolledBack
from pipelines.traffic import Payload, invoke


def smoke_failures(ctx: Context, endpoint_name: str, payloads: list[Payload]) -> list[str]:
    runtime = ctx.aws.client("sagemaker-runtime")
    failures = []
    for index, payload in enumerate(payloads, start=1):
        answer = invoke(runtime, endpoint_name, payload)
        if answer.error_code:
            failures.append(f"payload {index}: {answer.error_code}: {answer.message}")
    return failures


def deploy_checked(
    ctx: Context, endpoint: str, package_ref: str, payloads: list[Payload], **options: Any
) -> DeployResult:
    """``deploy``, then the smoke check on what it deployed (skipped for a no-op)."""
    result = deploy(ctx, endpoint, package_ref, **options)
    if not payloads or result.outcome == "no_op":
        return result
    ctx.event("smoke.start", f"smoke check: {len(payloads)} payloads on {result.endpoint}")
    failures = smoke_failures(ctx, result.endpoint, payloads)
    inputs = {"endpoint": result.endpoint, "config": result.config_name, "payloads": len(payloads)}
    if not failures:
        ctx.audit.record("smoke", "passed", inputs)
        result.message += f"; smoke check passed ({len(payloads)} payloads)"
        return result
    summary = f"{len(failures)} of {len(payloads)} smoke payloads failed; first: {failures[0]}"
    if result.outcome == "created" or not result.previous_config:
        ctx.audit.record("smoke", "failed", inputs, failures=failures[:20])
        raise MlopsError(
            f"the new endpoint {result.endpoint} failed its smoke check ({summary}); there is no "
            "previous config to return to, so it was left as it is for a person to look at"
        )
    ctx.audit.record(
        "smoke", "failed", inputs, failures=failures[:20], rolling_back_to=result.previous_config
    )
    back = rollback(ctx, endpoint, to_config=result.previous_config)
    raise RolledBack(
        f"{result.endpoint}: {result.config_name} failed its smoke check ({summary}); rolled back "
        f"to {back.config_name} through a guarded update; the failed config and model are kept"
    )
