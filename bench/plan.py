"""Benchmark `mlops plan`: median wall time per environment, in-process and as a process.

Run: .venv/bin/python bench/plan.py [--runs N]
The target (issue 2) is a median under 3 s for `mlops plan prod --json` as a process.
Machines differ a lot in single-core speed, so a fixed pure-Python peer workload runs in
the same process and each figure is also given as a multiple of it: compare those ratios
across machines and sessions, not the seconds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlops.engine.plan import plan_environment  # noqa: E402

ENVS = ("dev", "staging", "prod")


def median_seconds(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def peer_workload() -> int:
    """Fixed interpreter-bound work (about the plan's mix: dicts, strings, calls)."""
    total = 0
    for i in range(300_000):
        d = {"name": f"r{i}", "n": i}
        total += len(str(d)) + d["n"] % 7
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    mlops = [sys.executable, "-m", "mlops.cli"]
    plan_environment("dev")  # warm imports so the in-process figure is the plan itself
    peer = median_seconds(peer_workload, args.runs)
    print(f"peer workload: {peer:.3f}s (the unit of the x columns)")
    print(
        f"{'env':8} {'resources':>9} {'in-process':>11} {'x':>5} {'process':>9} {'x':>5} "
        f"{'res/s (in-proc)':>16}"
    )
    for env in ENVS:
        count = sum(1 for r in plan_environment(env)["resources"] if r["custom"])
        inproc = median_seconds(lambda env=env: plan_environment(env), args.runs)
        proc = median_seconds(
            lambda env=env: subprocess.run(
                [*mlops, "plan", env, "--json"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL
            ),
            args.runs,
        )
        print(
            f"{env:8} {count:9d} {inproc:10.3f}s {inproc / peer:5.1f} {proc:8.3f}s "
            f"{proc / peer:5.1f} {count / inproc:16.0f}"
        )


if __name__ == "__main__":
    main()
