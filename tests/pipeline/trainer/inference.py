"""Serving handlers for the pipeline tests' tiny model: every row scores the trained accuracy."""

import json
import os


def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.json")) as fh:
        return json.load(fh)


def predict_fn(data, model):
    if model.get("broken"):
        raise RuntimeError("this model version cannot predict")
    return [model["accuracy"] for _ in data]
