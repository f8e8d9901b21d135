"""Script-mode training entry point: logistic regression in pure Python.

SageMaker's script-mode contract: hyperparameters arrive as ``--key value`` arguments,
data in ``SM_CHANNEL_TRAIN`` / ``SM_CHANNEL_VALIDATION`` (CSV, label first), the model
goes to ``SM_MODEL_DIR``. Metrics are printed one per line as ``name=value;`` for the
job's MetricDefinitions (``validation:accuracy=([0-9.]+);`` and so on).

Test switches: ``--fail true`` exits non-zero with a message on stderr; ``--degrade true``
trains on shuffled labels (validation accuracy near chance, for the quality gate);
``--brittle true`` trains a good model whose inference fails when the first feature is above
0.5 (a fault only traffic finds: the canary's 5XX alarm);
``--sleep_seconds N`` sleeps before training (for MaxRuntimeInSeconds).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--learning_rate", type=float, default=0.1)
    parser.add_argument("--l2", type=float, default=0.001)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fail", type=_bool, default=False)
    parser.add_argument("--degrade", type=_bool, default=False)
    parser.add_argument("--brittle", type=_bool, default=False)
    parser.add_argument("--sleep_seconds", type=float, default=0.0)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", "data/train"))
    parser.add_argument(
        "--validation", default=os.environ.get("SM_CHANNEL_VALIDATION", "data/validation")
    )
    return parser.parse_args(argv)


def load(directory: str) -> list[tuple[int, list[float]]]:
    rows = []
    for path in sorted(Path(directory).glob("*.csv")):
        for line in path.read_text().splitlines():
            if line.strip():
                label, *features = line.split(",")
                rows.append((int(float(label)), [float(v) for v in features]))
    if not rows:
        raise SystemExit(f"no CSV rows in {directory}")
    return rows


def sigmoid(z: float) -> float:
    if z < -30:
        return 0.0
    if z > 30:
        return 1.0
    return 1.0 / (1.0 + math.exp(-z))


def predict(weights: list[float], bias: float, x: list[float]) -> float:
    return sigmoid(sum(w * v for w, v in zip(weights, x, strict=True)) + bias)


def auc(scored: list[tuple[float, int]]) -> float:
    """Area under the ROC curve: the Mann-Whitney U statistic (ties share their mean rank)."""
    ordered = sorted(scored)
    ranks = [0.0] * len(ordered)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1][0] == ordered[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    positives = sum(label for _, label in ordered)
    negatives = len(ordered) - positives
    if positives == 0 or negatives == 0:
        return 0.5
    rank_sum = sum(r for r, (_, label) in zip(ranks, ordered, strict=True) if label)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def evaluate(
    weights: list[float], bias: float, rows: list[tuple[int, list[float]]]
) -> dict[str, float]:
    eps = 1e-9
    loss = correct = 0.0
    scored = []
    for label, x in rows:
        p = predict(weights, bias, x)
        loss -= label * math.log(p + eps) + (1 - label) * math.log(1 - p + eps)
        correct += (p >= 0.5) == bool(label)
        scored.append((p, label))
    return {"loss": loss / len(rows), "accuracy": correct / len(rows), "auc": auc(scored)}


def train(args: argparse.Namespace) -> dict[str, float]:
    rng = random.Random(args.seed)
    rows, validation = load(args.train), load(args.validation)
    if args.degrade:
        labels = [label for label, _ in rows]
        rng.shuffle(labels)
        rows = [(label, x) for label, (_, x) in zip(labels, rows, strict=True)]
    weights, bias = [0.0] * len(rows[0][1]), 0.0
    for epoch in range(1, args.epochs + 1):
        rng.shuffle(rows)
        for label, x in rows:
            error = predict(weights, bias, x) - label
            weights = [
                w - args.learning_rate * (error * v + args.l2 * w)
                for w, v in zip(weights, x, strict=True)
            ]
            bias -= args.learning_rate * error
        train_metrics = evaluate(weights, bias, rows)
        print(f"epoch={epoch}; train:loss={train_metrics['loss']:.5f};", flush=True)
    metrics = evaluate(weights, bias, validation)
    print(f"validation:loss={metrics['loss']:.5f};", flush=True)
    print(f"validation:accuracy={metrics['accuracy']:.5f};", flush=True)
    print(f"validation:auc={metrics['auc']:.5f};", flush=True)
    model_dir = Path(args.model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    model = {"weights": weights, "bias": bias}
    if args.brittle:  # a defect that only traffic finds: inference rejects part of the inputs
        model["input_limit"] = 0.5
    (model_dir / "model.json").write_text(json.dumps(model))
    output_dir = os.environ.get("SM_OUTPUT_DATA_DIR")
    if output_dir:
        (Path(output_dir) / "metrics.json").write_text(json.dumps(metrics))
    return metrics


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.sleep_seconds:
        time.sleep(args.sleep_seconds)
    if args.fail:
        print("training failed on purpose (--fail true)", file=sys.stderr)
        return 3
    train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
