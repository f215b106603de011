"""Benchmark `make test`: the median wall time of the everyday test tier.

Run: .venv/bin/python bench/tests.py [--runs N] [--target test]
The target is at most 5 minutes on 2 cores, venvs present and caches warm (the first run
after `make venv` fills them: run once before measuring). The peer workload of
bench/plan.py runs before each run and its median is the unit of the x column, to compare
across machines and hours.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

from plan import ROOT, median_seconds, peer_workload  # bench/plan.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--target", default="test", help="make target (test or test-all)")
    args = parser.parse_args()
    seconds, peers = [], []
    for run in range(1, args.runs + 1):
        peers.append(median_seconds(peer_workload, 3))
        started = time.perf_counter()
        done = subprocess.run(["make", args.target], cwd=ROOT, capture_output=True, text=True)
        seconds.append(time.perf_counter() - started)
        if done.returncode != 0:
            failures = done.stdout.find("= FAILURES =")
            raise SystemExit(
                f"make {args.target} failed (run {run}):\n"
                f"{done.stdout[failures:] if failures >= 0 else done.stdout[-4000:]}"
            )
        print(f"run {run}: {seconds[-1]:7.1f}s  (peer {peers[-1]:.3f}s)", flush=True)
    median, peer = statistics.median(seconds), statistics.median(peers)
    print(
        f"make {args.target}: median {median:.1f}s = {median / 60:.2f} min "
        f"over {args.runs} runs; peer {peer:.3f}s; x {median / peer:.0f}"
    )


if __name__ == "__main__":
    main()
