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

from components.contract import CONTRACT_VERSION, ContractProblems, StackOutputs
from components.quoting import shown
from pipelines.aws import endpoint_url, is_loopback
from pipelines.errors import ContractError

STATE_DIR_ENV = "MLOPS_STATE_DIR"
MAX_OUTPUTS_BYTES = 10 * 1024 * 1024
"""Real stack outputs are a few kB; anything past 10 MB is not this contract."""
MAX_DEPTH = 20
"""Real stack outputs nest 5 levels deep (endpoints[].deployment.canary_size.value)."""
MAX_PROBLEMS = 20
"""Validation problems listed in one error; the rest are counted."""


def state_dir() -> Path:
    """Where local state lives (``.mlops`` in the working directory unless overridden)."""
    return Path(os.environ.get(STATE_DIR_ENV, ".mlops"))


def local_outputs_path(stack: str) -> Path:
    return state_dir() / "local" / f"outputs-{stack}.json"


def parse_outputs(raw: Any, *, stack: str | None, source: str) -> StackOutputs:
    """Validate raw outputs: a mapping, this contract version, this stack, every field present,
    and only this stack's own account, region and buckets (``components.contract``)."""
    if not isinstance(raw, dict):
        raise ContractError(
            f"{source}: stack outputs must be a JSON object (as `pulumi stack output --json` "
            f"prints), got {_json_type(raw)}"
        )
    if "contract_version" not in raw:
        raise ContractError(
            f"{source}: stack outputs are missing 'contract_version' (expected {CONTRACT_VERSION}); "
            "are these the outputs of an mlops-stack program?"
        )
    version = raw["contract_version"]
    if type(version) is not int or version != CONTRACT_VERSION:
        raise ContractError(
            f"{source}: stack outputs have contract_version {shown(version)}; this "
            f"pipeline reads version {CONTRACT_VERSION} - upgrade whichever side is older"
        )
    if stack is not None and raw.get("stack") not in (None, stack):
        other = raw.get("stack")
        hint = f" (or --stack {other})" if isinstance(other, str) and len(other) <= 100 else ""
        raise ContractError(
            f"{source}: stack outputs are from stack {shown(other)}, not {stack!r}; "
            f"pass the outputs of {stack!r}{hint}"
        )
    try:
        outputs = StackOutputs.model_validate(raw)
    except ValidationError as exc:
        problems = _problems(exc)
        more = len(problems) - MAX_PROBLEMS
        listed = problems[:MAX_PROBLEMS] + ([f"... and {more} more"] if more > 0 else [])
        raise ContractError(
            f"{source}: stack outputs do not match contract version {CONTRACT_VERSION}:\n"
            + "\n".join(f"  - {p}" for p in listed)
        ) from None
    return outputs


def _problems(exc: ValidationError) -> list[str]:
    """One line per problem: the field path, what is wrong, the value (cut at 200 characters)."""
    problems: list[str] = []
    for err in exc.errors(include_url=False):
        path = ".".join(str(p) for p in err["loc"])
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, ContractProblems):  # already '<path>: <value> ...; allowed: ...'
            problems += cause.problems
        elif err["type"] == "missing":
            problems.append(f"{path}: required output is missing")
        elif err["type"] == "value_error":  # our validators quote the value themselves
            message = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{path}: {message}" if path else message)
        else:
            problems.append(f"{path}: {err['msg']} (got {shown(err.get('input'))})")
    return problems


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (JSON has no NaN or Infinity)")


def _depth(value: Any) -> int:
    """How deeply ``value`` nests (iteratively: no recursion on hostile input)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH and isinstance(item, dict | list):
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def decode_json(data: bytes, source: str) -> Any:
    """Stack outputs as JSON: at most 10 MB of UTF-8, finite numbers, nested at most 20 deep;
    a ``ContractError`` naming ``source`` and what is wrong otherwise."""
    if len(data) > MAX_OUTPUTS_BYTES:
        raise ContractError(
            f"{source}: larger than {MAX_OUTPUTS_BYTES // (1024 * 1024)} MB; stack outputs are "
            "a JSON object of a few kB (`pulumi stack output --json`)"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContractError(
            f"{source}: not UTF-8 text (byte {data[exc.start : exc.start + 1]!r} at offset "
            f"{exc.start}); expected the JSON that `pulumi stack output --json` prints"
        ) from None
    try:
        raw = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ContractError(
            f"{source}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise ContractError(
            f"{source}: JSON nested deeper than {MAX_DEPTH} levels; stack outputs are a "
            "shallow JSON object"
        ) from None
    except ValueError as exc:  # NaN, Infinity (_no_constant)
        raise ContractError(f"{source}: not valid JSON ({exc})") from None
    if _depth(raw) > MAX_DEPTH:
        raise ContractError(
            f"{source}: JSON nested deeper than {MAX_DEPTH} levels; stack outputs are a "
            "shallow JSON object"
        )
    return raw


def _read_json(path: Path, source: str) -> Any:
    try:
        if path.is_dir():
            raise ContractError(
                f"{source}: is a directory; expected a JSON file (`pulumi stack output --json`)"
            )
        with path.open("rb") as f:  # /dev/stdin works; at most one byte past the cap is read
            data = f.read(MAX_OUTPUTS_BYTES + 1)
    except FileNotFoundError:
        raise ContractError(f"{source}: file not found") from None
    except OSError as exc:
        raise ContractError(f"{source}: cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:  # a NUL in the path
        raise ContractError(f"{source}: not a usable path ({exc})") from None
    return decode_json(data, source)


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
        cwd=cwd,
        check=False,
    )
    source = f"`pulumi stack output --stack {stack}`"
    if proc.returncode != 0:
        said = proc.stderr.decode(errors="replace").strip() or proc.stdout.decode(errors="replace")
        raise ContractError(f"{source} failed: {said.strip()[:2000]}")
    return decode_json(proc.stdout, source)


def load_outputs(stack: str | None, outputs_file: str | None = None) -> StackOutputs:
    """The validated contract for ``stack`` from the first available source."""
    if outputs_file:
        source = f"--outputs {shown(outputs_file)}"
        return parse_outputs(_read_json(Path(outputs_file), source), stack=stack, source=source)
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
