"""The example model the local cloud trains for real: logistic regression on synthetic data.

Files: ``make_dataset.py`` (deterministic data), ``train.py`` (script-mode entry point),
``inference.py`` (model_fn / predict_fn). This module packages them the way the
SageMaker SDK does, for the pipeline, the demo and the tests:

    refs = upload(s3_client, bucket="my-data-bucket", prefix="examples/tabular")
    sm.create_training_job(..., HyperParameters=hyperparameters(refs.source_uri, epochs=20),
                           AlgorithmSpecification={..., "MetricDefinitions": METRIC_DEFINITIONS},
                           InputDataConfig=input_data_config(refs))
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from examples.tabular.make_dataset import make_splits

SOURCE_DIR = Path(__file__).resolve().parent
ENTRY_POINT = "train.py"
SOURCE_FILES = ("train.py", "inference.py", "make_dataset.py")
METRIC_DEFINITIONS: list[dict[str, str]] = [
    {"Name": "validation:accuracy", "Regex": r"validation:accuracy=([0-9.]+);"},
    {"Name": "validation:auc", "Regex": r"validation:auc=([0-9.]+);"},
    {"Name": "validation:loss", "Regex": r"validation:loss=([0-9.]+);"},
    {"Name": "train:loss", "Regex": r"train:loss=([0-9.]+);"},
]
"""For AlgorithmSpecification.MetricDefinitions (train.py prints ``name=value;``)."""
FAIL = {"fail": "true"}
"""Hyperparameters that make the job fail (exit code 3, a message on stderr)."""
DEGRADE = {"degrade": "true"}
"""Hyperparameters that train on shuffled labels: validation accuracy near 0.5."""
BRITTLE = {"brittle": "true"}
"""Hyperparameters that train a good model whose inference fails on part of the inputs (rows
whose first feature is above 0.5): its validation metrics pass the gate, its traffic errs."""


def payloads(rows: int = 29, seed: int = 11) -> list[str]:
    """Request bodies for the model: one CSV row of features each (no label)."""
    from examples.tabular.make_dataset import make_rows

    return [",".join(f"{v:.6f}" for v in x) for _, x in make_rows(rows, seed)]


SHIFTED_FEATURES = {1: 1.5, 2: -1.5}
"""Feature index → shift (the features are standard normal): the demo's drifted traffic."""


def shifted_payloads(
    rows: int = 500, seed: int = 23, shift: dict[int, float] | None = None
) -> list[str]:
    """Like ``payloads``, with features moved by ``shift`` (default ``SHIFTED_FEATURES``): traffic
    whose distribution has drifted away from the training data on exactly those features."""
    from examples.tabular.make_dataset import make_rows

    moved = SHIFTED_FEATURES if shift is None else shift
    return [
        ",".join(f"{v + moved.get(i, 0.0):.6f}" for i, v in enumerate(x))
        for _, x in make_rows(rows, seed)
    ]


@dataclass(frozen=True)
class ExampleUploads:
    source_uri: str
    """s3://…/sourcedir.tar.gz, for ``sagemaker_submit_directory``."""
    train_uri: str
    validation_uri: str


def source_tarball() -> bytes:
    """The entry point and its modules as a gzipped tar (what the SageMaker SDK uploads)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in SOURCE_FILES:
            data = (SOURCE_DIR / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def upload(
    s3: Any, bucket: str, prefix: str = "examples/tabular", *, rows: int = 800, seed: int = 7
) -> ExampleUploads:
    """Upload the source tarball and the dataset's channels with a boto3 S3 client."""
    prefix = prefix.strip("/")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/source/sourcedir.tar.gz", Body=source_tarball())
    for channel, text in make_splits(rows, seed).items():
        s3.put_object(
            Bucket=bucket, Key=f"{prefix}/data/{channel}/{channel}.csv", Body=text.encode()
        )
    base = f"s3://{bucket}/{prefix}"
    return ExampleUploads(
        source_uri=f"{base}/source/sourcedir.tar.gz",
        train_uri=f"{base}/data/train/",
        validation_uri=f"{base}/data/validation/",
    )


def hyperparameters(source_uri: str, **values: Any) -> dict[str, str]:
    """HyperParameters as the SageMaker SDK sends them (every value JSON-encoded)."""
    merged: dict[str, Any] = {
        "sagemaker_program": ENTRY_POINT,
        "sagemaker_submit_directory": source_uri,
    }
    merged.update(values)
    return {key: json.dumps(value) for key, value in merged.items()}


def input_data_config(uploads: ExampleUploads) -> list[dict[str, Any]]:
    return [
        {
            "ChannelName": channel,
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": uri,
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "ContentType": "text/csv",
        }
        for channel, uri in (("train", uploads.train_uri), ("validation", uploads.validation_uri))
    ]
