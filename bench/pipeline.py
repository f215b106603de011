"""Benchmark the sample pipelines: wall time of each local run (KFP SubprocessRunner).

Run: .venv/bin/mlops local up && .venv/bin/python bench/pipeline.py [--runs N]
It runs against the running local platform (or the endpoints exported in the environment:
MLFLOW_TRACKING_URI, AWS_ENDPOINT_URL, ...), in order features -> training -> drift, since
training reads the features and drift reads the champion's recent inputs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlops.pipeline_runner import platform_env, run_local  # noqa: E402
from pipelines import settings, storage  # noqa: E402
from pipelines.data import feature_columns, load_dataset  # noqa: E402

ORDER = ("features", "training", "drift")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--model-name", default=f"{settings.MODEL_NAME}-bench")
    args = parser.parse_args()
    env = platform_env()
    os.environ.update(env)  # the bench itself writes the drift inputs to the object store
    seconds: dict[str, list[float]] = defaultdict(list)
    params = {"training": {"model_name": args.model_name}, "drift": {"model_name": args.model_name}}
    for _ in range(args.runs):
        for name in ORDER:
            if name == "drift":
                recent = load_dataset()[feature_columns()].sample(150, random_state=0) * 1.3
                storage.write_parquet(recent, settings.inference_uri(args.model_name))
            root = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
            run = run_local(name, params.get(name, {}), env=env, pipeline_root=root, echo=False)
            seconds[name].append(run.seconds)
    print(f"{'pipeline':10} {'runs':>4} {'median':>8} {'min':>8} {'max':>8}")
    for name in ORDER:
        values = seconds[name]
        print(
            f"{name:10} {len(values):4d} {statistics.median(values):7.1f}s "
            f"{min(values):7.1f}s {max(values):7.1f}s"
        )


if __name__ == "__main__":
    main()
