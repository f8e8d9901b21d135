"""A tiny script-mode entry point for the pipeline tests: writes a model, prints metrics.

Hyperparameters: --accuracy (printed as validation:accuracy), --fail (exit 1 with a
message), --sleep (real seconds, to exceed MaxRuntimeInSeconds), --broken_inference (a
model whose inference raises: for the deploy smoke check).
"""

import argparse
import json
import os
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--accuracy", type=float, default=0.9)
parser.add_argument("--fail", default="")
parser.add_argument("--sleep", type=float, default=0.0)
parser.add_argument("--broken_inference", default="")
args, _ = parser.parse_known_args()
if args.fail:
    print(f"training diverged: {args.fail}", file=sys.stderr)
    sys.exit(1)
if args.sleep:
    time.sleep(args.sleep)
model_dir = os.environ.get("SM_MODEL_DIR", ".")
with open(os.path.join(model_dir, "model.json"), "w") as fh:
    json.dump({"accuracy": args.accuracy, "broken": bool(args.broken_inference)}, fh)
print(f"validation:accuracy={args.accuracy}")
print("validation:loss=0.25")
