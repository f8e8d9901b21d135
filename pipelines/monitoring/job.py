"""The drift job's entry point in its SageMaker Processing container.

    python3 -m pipelines.monitoring.job --job /opt/ml/processing/input/job/job.json

SageMaker has downloaded the job's description (``job.json``: endpoint, window, settings,
variants, whether to publish metrics), the baseline (``input/baseline/statistics.json``) and
each variant's capture files of the window (``input/capture/<variant>/``, from a manifest).
Results go to ``output/<variant>/`` (uploaded by SageMaker next to the capture). Metrics are
published from here when the container may reach CloudWatch; a network-isolated job leaves
that to the caller, who reads ``drift.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipelines.monitoring import endpoint as ep
from pipelines.monitoring.runner import Place, SourceError, load_baseline, sources_at

EXIT_BAD_INPUT = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipelines.monitoring.job")
    parser.add_argument("--job", required=True, help="job.json")
    args = parser.parse_args(argv)
    job_file = Path(args.job)
    root = job_file.parent.parent.parent  # <root>/input/job/job.json
    try:
        job = json.loads(job_file.read_text())
        baseline = load_baseline(str(root / "input" / "baseline" / "statistics.json"))
    except (OSError, ValueError, SourceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from pipelines.monitoring.endpoint_cli import settings_from_json

    settings = settings_from_json(job["settings"])
    window = ep.Window(float(job["window"]["start"]), float(job["window"]["end"]))
    cloudwatch = None
    if job.get("publish"):
        import boto3

        from pipelines.aws import client_config

        cloudwatch = boto3.client("cloudwatch", region_name=job["region"], config=client_config())
    for variant in job["variants"]:
        captured = root / "input" / "capture" / variant
        sources = (
            sources_at(str(captured)) if captured.is_dir() and any(captured.rglob("*")) else []
        )
        run = ep.run_variant(
            sources=sources,
            endpoint=job["endpoint"],
            variant=variant,
            baseline=baseline,
            baseline_uri=job["baseline"],
            settings=settings,
            window=window,
            place=Place(str(root / "output" / variant)),
            progress=lambda m: print(m, flush=True),
        )
        print(f"{job['endpoint']}/{variant}: {run.result.verdict}; drifted: {run.result.drifted}")
        if cloudwatch is not None:
            data = ep.metric_data(
                job["endpoint"], variant, run.result.to_json(), ep.metric_time(window)
            )
            ep.publish(cloudwatch, job["namespace"], data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
