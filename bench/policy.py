"""Benchmark `mlops policy check`: all three environments in one command, as a process.

Run: .venv/bin/python bench/policy.py [--runs N]
The target (issue 5) is a median under 6 s for the three environments. Each figure is
also given as a multiple of the same-process peer workload of bench/plan.py, to compare
across machines.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from plan import ENVS, ROOT, median_seconds, peer_workload  # bench/plan.py


def check(*envs: str) -> None:
    # exit 1 would mean a mandatory violation: the blueprint's plans must have none
    subprocess.run(
        [sys.executable, "-m", "mlops.cli", "policy", "check", *envs],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    peer = median_seconds(peer_workload, args.runs)
    print(f"peer workload: {peer:.3f}s (the unit of the x column)")
    print(f"{'command':42} {'median':>8} {'x':>5}")
    for envs in [ENVS, *((env,) for env in ENVS)]:
        seconds = median_seconds(lambda envs=envs: check(*envs), args.runs)
        print(f"{'mlops policy check ' + ' '.join(envs):42} {seconds:7.3f}s {seconds / peer:5.1f}")


if __name__ == "__main__":
    main()
