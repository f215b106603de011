"""Benchmark local serving: the same MLflow model behind our model server (MLServer, Open
Inference Protocol v2, as KServe runs it) and behind `mlflow models serve`, in one run.

Run: .venv/bin/python bench/serving.py [--requests N] [--seconds S] [--clients C]
It starts a throwaway local platform (free ports, temporary state dir), registers one
classifier, serves its champion both ways on 127.0.0.1, measures p50/p99 latency and
throughput sequentially and with C concurrent clients (each phase bounded by N requests
and S seconds), prints the figures and the ratio, and stops everything it started.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlops.local.platform import LocalPlatform, LocalSettings  # noqa: E402
from mlops.local.process import Managed, free_port, http_ok  # noqa: E402

MODEL = "bench-serving-model"


@dataclass
class Target:
    name: str
    port: int
    path: str
    body: bytes

    def parse(self, raw: bytes) -> list[Any]:
        data = json.loads(raw)
        if "outputs" in data:  # Open Inference Protocol v2
            return list(data["outputs"][0]["data"])
        return list(data["predictions"])  # MLflow scoring server


@dataclass
class Figures:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _client_loop(
    target: Target,
    stop_at: float,
    budget: Callable[[], bool],
    latencies: list[float],
    errors: list[str],
) -> None:
    """One client with one keep-alive connection, as a real caller would hold."""
    conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=30)
    headers = {"Content-Type": "application/json"}
    try:
        while time.monotonic() < stop_at and budget():
            t0 = time.perf_counter()
            conn.request("POST", target.path, body=target.body, headers=headers)
            response = conn.getresponse()
            raw = response.read()
            elapsed = time.perf_counter() - t0
            if response.status != 200:
                errors.append(f"{target.name}: HTTP {response.status} {raw[:200]!r}")
                return
            latencies.append(elapsed)
    finally:
        conn.close()


def measure(target: Target, clients: int, max_requests: int, max_seconds: float) -> Figures:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    issued = [0]

    def budget() -> bool:
        with lock:
            if issued[0] >= max_requests:
                return False
            issued[0] += 1
            return True

    started = time.monotonic()
    stop_at = started + max_seconds
    threads = [
        threading.Thread(target=_client_loop, args=(target, stop_at, budget, latencies, errors))
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    if errors:
        raise SystemExit(f"error: {errors[0]}")
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return Figures(len(ordered), seconds, statistics.median(ordered) * 1000, p99 * 1000)


def _train(platform: LocalPlatform) -> tuple[str, Any]:
    import mlflow
    from mlflow import MlflowClient
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    frame = load_breast_cancer(as_frame=True).frame
    x = frame.drop(columns="target").rename(columns=lambda c: c.replace(" ", "_"))
    mlflow.set_tracking_uri(platform.mlflow_uri)
    mlflow.set_experiment("bench-serving")
    with mlflow.start_run():
        model = RandomForestClassifier(n_estimators=50, max_depth=6, random_state=0)
        model.fit(x, frame["target"])
        # The integer class labels make MLflow hint about missing values; irrelevant here.
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            pip_requirements=["scikit-learn", "pandas"],
            input_example=x.head(2),
            registered_model_name=MODEL,
            skops_trusted_types=[
                "sklearn.ensemble._forest.RandomForestClassifier",
                "sklearn.tree._classes.DecisionTreeClassifier",
                "sklearn.tree._tree.Tree",
            ],
        )
    version = str(info.registered_model_version)
    MlflowClient(platform.mlflow_uri).set_registered_model_alias(MODEL, "champion", version)
    return version, x.head(1)


def _wait(url: str, server: Managed, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http_ok(url):
            return
        if not server.alive():
            raise SystemExit(f"error: {server.name} exited; see {server.log_file}")
        time.sleep(0.25)
    raise SystemExit(
        f"error: {server.name} not healthy after {timeout:.0f}s; see {server.log_file}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=500, help="max requests per phase")
    parser.add_argument("--seconds", type=float, default=15.0, help="max seconds per phase")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="mlops-bench-serving-"))
    platform = LocalPlatform(
        LocalSettings(
            state_dir=state,
            s3_port=free_port(),
            mlflow_port=free_port(),
            model_port=free_port(),
            model_name=MODEL,
        )
    )
    scorer = Managed(
        "mlflow-models-serve",
        state / "run" / "scorer.pid",
        state / "logs" / "scorer.log",
        state / "scorer",
    )
    try:
        started = time.monotonic()
        platform.up(progress=lambda m: print(f"  {m}", file=sys.stderr))
        print(f"platform up in {time.monotonic() - started:.1f}s", file=sys.stderr)
        os.environ.update(platform.env())
        version, row = _train(platform)
        platform.reload_model(MODEL)

        port = free_port()
        bindir = str(Path(sys.executable).parent)
        # `mlflow models serve` execs `uvicorn` from PATH: the venv's, as if activated.
        env = {
            **os.environ,
            **platform.env(),
            "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        scorer.start(
            [
                str(Path(bindir) / "mlflow"),
                "models",
                "serve",
                "-m",
                f"models:/{MODEL}/{version}",
                "--env-manager",
                "local",
                "--host",
                "127.0.0.1",
                "-p",
                str(port),
                "-w",
                "1",
            ],
            env,
        )
        _wait(f"http://127.0.0.1:{port}/ping", scorer)

        v2 = {
            "inputs": [
                {"name": c, "shape": [1], "datatype": "FP64", "data": [float(row[c].iloc[0])]}
                for c in row.columns
            ]
        }
        split = {
            "dataframe_split": {
                "columns": list(row.columns),
                "data": row.astype(float).values.tolist(),
            }
        }
        targets = [
            Target(
                "mlserver (ours, OIP v2)",
                platform.config.model_port,
                f"/v2/models/{MODEL}/infer",
                json.dumps(v2).encode(),
            ),
            Target("mlflow models serve", port, "/invocations", json.dumps(split).encode()),
        ]
        answers = []
        for target in targets:
            conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=30)
            conn.request("POST", target.path, target.body, {"Content-Type": "application/json"})
            answers.append(target.parse(conn.getresponse().read()))
            conn.close()
            measure(target, 1, 20, 5.0)  # warm-up
        if answers[0] != answers[1]:
            raise SystemExit(f"error: the servers disagree: {answers}")

        results: dict[str, dict[str, Figures]] = {}
        for target in targets:
            results[target.name] = {
                "sequential": measure(target, 1, args.requests, args.seconds),
                f"{args.clients} clients": measure(
                    target, args.clients, args.requests, args.seconds
                ),
            }
        print(
            f"model {MODEL} v{version} (RandomForest, 30 features, 1 row per request); "
            f"loopback; {os.cpu_count()} CPUs; each phase ≤ {args.requests} requests, "
            f"≤ {args.seconds:.0f}s"
        )
        print(f"{'server':<26} {'mode':<11} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
        for name, modes in results.items():
            for mode, fig in modes.items():
                print(
                    f"{name:<26} {mode:<11} {fig.requests:>5} {fig.p50_ms:>8.2f} "
                    f"{fig.p99_ms:>8.2f} {fig.rps:>8.1f}"
                )
        ours, theirs = (results[t.name] for t in targets)
        for mode in ours:
            print(
                f"ratio ours/mlflow ({mode}): p50 {ours[mode].p50_ms / theirs[mode].p50_ms:.2f}x,"
                f" throughput {ours[mode].rps / theirs[mode].rps:.2f}x"
            )
    finally:
        scorer.stop()
        platform.down()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
