"""Inference handlers for the tabular model (SageMaker's model_fn / input_fn / predict_fn / output_fn)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

Model = dict[str, Any]


def model_fn(model_dir: str) -> Model:
    model: Model = json.loads((Path(model_dir) / "model.json").read_text())
    return model


def input_fn(body: str | bytes, content_type: str = "text/csv") -> list[list[float]]:
    text = body.decode() if isinstance(body, bytes) else body
    if content_type == "application/json":
        rows = json.loads(text)
        return [[float(v) for v in row] for row in rows]
    if content_type != "text/csv":
        raise ValueError(
            f"unsupported content type {content_type!r}: use text/csv or application/json"
        )
    return [[float(v) for v in line.split(",")] for line in text.splitlines() if line.strip()]


def predict_fn(data: list[list[float]], model: Model) -> list[float]:
    out = []
    limit = model.get("input_limit")
    for x in data:
        if limit is not None and x[0] > limit:
            raise ValueError(
                f"feature 0 is {x[0]:g}, above the range this model handles ({limit:g})"
            )
        z = sum(w * v for w, v in zip(model["weights"], x, strict=True)) + model["bias"]
        out.append(1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))))
    return out


def output_fn(prediction: list[float], accept: str = "application/json") -> str:
    if accept == "text/csv":
        return "\n".join(f"{p:.6f}" for p in prediction)
    return json.dumps({"probabilities": prediction})
