"""A deterministic synthetic tabular dataset: 4 numeric features, a binary label.

Run as a script to write ``train.csv`` and ``validation.csv`` (label in the first column,
no header, the SageMaker built-in convention) into a directory:

    python examples/tabular/make_dataset.py OUT_DIR [--rows 800] [--seed 7]
"""

from __future__ import annotations

import argparse
import math
import random
from pathlib import Path

TRUE_WEIGHTS = (1.8, -2.4, 0.9, 0.0)
TRUE_BIAS = 0.3
NOISE = 0.6


def make_rows(rows: int = 800, seed: int = 7) -> list[tuple[int, list[float]]]:
    """``rows`` labelled examples; the same ``seed`` always gives the same rows."""
    rng = random.Random(seed)
    out = []
    for _ in range(rows):
        x = [rng.gauss(0.0, 1.0) for _ in TRUE_WEIGHTS]
        z = sum(w * v for w, v in zip(TRUE_WEIGHTS, x, strict=True)) + TRUE_BIAS
        z += rng.gauss(0.0, NOISE)
        label = 1 if 1.0 / (1.0 + math.exp(-z)) > 0.5 else 0
        out.append((label, x))
    return out


def to_csv(rows: list[tuple[int, list[float]]]) -> str:
    return "".join(f"{label}," + ",".join(f"{v:.6f}" for v in x) + "\n" for label, x in rows)


def make_splits(rows: int = 800, seed: int = 7, validation_share: float = 0.25) -> dict[str, str]:
    """CSV text per channel: ``{"train": ..., "validation": ...}``."""
    data = make_rows(rows, seed)
    cut = int(len(data) * (1.0 - validation_share))
    return {"train": to_csv(data[:cut]), "validation": to_csv(data[cut:])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--rows", type=int, default=800)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for channel, text in make_splits(args.rows, args.seed).items():
        (args.out_dir / f"{channel}.csv").write_text(text)
        print(f"wrote {args.out_dir / f'{channel}.csv'}")


if __name__ == "__main__":
    main()
