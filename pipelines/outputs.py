"""Load the ``StackOutputs`` contract and refuse anything that is not this stack's (FAULTS 20).

Sources, in order: ``--outputs FILE`` (a CI artifact); the local cloud's outputs file
(``.mlops/local/outputs-<stack>.json``) when ``AWS_ENDPOINT_URL`` is a loopback
address; ``pulumi stack output --json --stack <stack>``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from components.contract import CONTRACT_VERSION, StackOutputs
from pipelines.aws import endpoint_url, is_loopback
from pipelines.errors import ContractError

STATE_DIR_ENV = "MLOPS_STATE_DIR"


def state_dir() -> Path:
    """Where local state lives (``.mlops`` in the working directory unless overridden)."""
    return Path(os.environ.get(STATE_DIR_ENV, ".mlops"))


def local_outputs_path(stack: str) -> Path:
    return state_dir() / "local" / f"outputs-{stack}.json"


def parse_outputs(raw: Any, *, stack: str | None, source: str) -> StackOutputs:
    """Validate raw outputs: a mapping, this contract version, this stack, every field present."""
    if not isinstance(raw, dict):
        raise ContractError(
            f"{source}: stack outputs must be a JSON object, got {type(raw).__name__}"
        )
    if "contract_version" not in raw:
        raise ContractError(
            f"{source}: stack outputs are missing 'contract_version' (expected {CONTRACT_VERSION}); "
            "are these the outputs of an mlops-stack program?"
        )
    if raw["contract_version"] != CONTRACT_VERSION:
        raise ContractError(
            f"{source}: stack outputs have contract_version {raw['contract_version']!r}; this "
            f"pipeline reads version {CONTRACT_VERSION} - upgrade whichever side is older"
        )
    if stack is not None and raw.get("stack") not in (None, stack):
        raise ContractError(
            f"{source}: stack outputs are from stack {raw.get('stack')!r}, not {stack!r}; "
            f"pass the outputs of {stack!r} (or --stack {raw.get('stack')})"
        )
    try:
        outputs = StackOutputs.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            path = ".".join(str(p) for p in err["loc"])
            if err["type"] == "missing":
                problems.append(f"{path}: required output is missing")
            else:
                problems.append(f"{path}: {err['msg']} (got {err.get('input')!r})")
        raise ContractError(
            f"{source}: stack outputs do not match contract version {CONTRACT_VERSION}:\n"
            + "\n".join(f"  - {p}" for p in problems)
        ) from None
    return outputs


def _read_json(path: Path, source: str) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ContractError(f"{source}: file not found") from None
    except json.JSONDecodeError as exc:
        raise ContractError(f"{source}: not valid JSON ({exc})") from None


def from_pulumi(stack: str, cwd: Path | None = None) -> Any:
    """``pulumi stack output --json --stack <stack>`` (the Pulumi CLI must be installed)."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise ContractError(
            f"stack outputs for {stack!r}: the pulumi CLI is not installed; pass --outputs FILE "
            "(from `pulumi stack output --json`) or run against the local cloud"
        )
    proc = subprocess.run(
        [pulumi, "stack", "output", "--json", "--stack", stack],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )
    if proc.returncode != 0:
        raise ContractError(
            f"`pulumi stack output --stack {stack}` failed: {proc.stderr.strip() or proc.stdout.strip()}"
        )
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise ContractError(
            f"`pulumi stack output --stack {stack}` printed no JSON ({exc})"
        ) from None


def load_outputs(stack: str | None, outputs_file: str | None = None) -> StackOutputs:
    """The validated contract for ``stack`` from the first available source."""
    if outputs_file:
        return parse_outputs(
            _read_json(Path(outputs_file), outputs_file), stack=stack, source=outputs_file
        )
    if stack is None:
        raise ContractError("no stack given: pass --stack ENV (or --outputs FILE)")
    local = local_outputs_path(stack)
    if is_loopback(endpoint_url()) and local.exists():
        return parse_outputs(_read_json(local, str(local)), stack=stack, source=str(local))
    if is_loopback(endpoint_url()):
        raise ContractError(
            f"stack outputs for {stack!r}: AWS_ENDPOINT_URL points at the local cloud but {local} "
            "does not exist; materialise the stack first (`mlops local serve`) or pass --outputs FILE"
        )
    return parse_outputs(from_pulumi(stack), stack=stack, source=f"pulumi stack {stack}")
