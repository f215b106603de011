"""Benchmark the local loop: `mlops local up` cold and warm, each pipeline per task, the demo.

Run: .venv/bin/python bench/local.py [--cold-tasks] [--skip-demo]
It uses a throwaway state dir and free ports (so it never touches `.mlops/` or a running
platform), and stops every server it started. In order:
  cold up   `mlops local up` on a fresh state dir (database migrations, bucket, Feast repo);
  warm up   `down`, then `up` again: venvs and state present (the everyday start);
  pipelines features -> training -> drift with their tasks forked from the warm task server,
            as `mlops pipeline run` runs them; `--cold-tasks` runs each again with every
            task a cold process, the way KFP's local runner starts them (the before/after);
  demo      `mlops demo` on that platform after a `down`, as a process (its up included).
Machines and hours differ (the shared machines here run other work), so the peer workload
of bench/plan.py runs first and every figure is also given as a multiple of it (x): compare
those across machines and sessions, together with the load average printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plan import ROOT, median_seconds, peer_workload  # bench/plan.py

from mlops.local.process import free_port
from mlops.pipeline_runner import TaskEvent, platform_env, run_local, warm_tasks
from pipelines import settings, storage
from pipelines.data import feature_columns, load_dataset

MLOPS = str(Path(sys.executable).parent / "mlops")


def timed_command(*args: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([MLOPS, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"mlops {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return seconds


def run_pipelines(tasks_mode: str, peer: float) -> dict[str, float]:
    """Run features, training, drift; print each task's time; return each pipeline's."""
    totals: dict[str, float] = {}
    model = f"{settings.MODEL_NAME}-bench"
    env = platform_env()
    os.environ.update(env)  # the bench writes the drift inputs to the object store itself
    params = {"training": {"model_name": model}, "drift": {"model_name": model}}
    with warm_tasks() as tasks:
        if tasks_mode == "warm":
            started = time.perf_counter()
            tasks.ready(wait=600)
            print(
                f"  warm task server ready in {time.perf_counter() - started:.1f}s "
                "(once per `mlops pipeline run` or demo, beside the first tasks)"
            )
        for name in ("features", "training", "drift"):
            if name == "drift":
                recent = load_dataset()[feature_columns()].sample(150, random_state=0) * 1.3
                storage.write_parquet(recent, settings.inference_uri(model))
            events: list[TaskEvent] = []
            root = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
            run = run_local(
                name,
                params.get(name, {}),
                env=env,
                pipeline_root=root,
                echo=False,
                progress=events.append,
                tasks=tasks if tasks_mode == "warm" else None,
            )
            shutil.rmtree(root, ignore_errors=True)
            totals[name] = run.seconds
            print(
                f"  pipeline {name} ({tasks_mode} tasks): {run.seconds:.1f}s "
                f"x{run.seconds / peer:.0f}"
            )
            for event in events:
                if event.ended:
                    print(f"    {event.task:24} {event.seconds:6.1f}s")
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--cold-tasks",
        action="store_true",
        help="Also run every pipeline with cold task processes.",
    )
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    peer = median_seconds(peer_workload, 3)
    print(
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"peer workload {peer:.3f}s (the unit of x)"
    )
    state = Path(tempfile.mkdtemp(prefix="bench-local-"))
    ports = [
        f"--s3-port={free_port()}",
        f"--mlflow-port={free_port()}",
        f"--model-port={free_port()}",
    ]
    env = {**os.environ, settings.LOCAL_STATE_ENV: str(state)}
    os.environ[settings.LOCAL_STATE_ENV] = str(state)
    rows: list[tuple[str, float]] = []
    try:
        rows.append(
            ("local up, cold (fresh state dir)", timed_command("local", "up", *ports, env=env))
        )
        timed_command("local", "down", env=env)
        rows.append(("local up, warm (state present)", timed_command("local", "up", env=env)))
        for mode in ("warm", "cold") if args.cold_tasks else ("warm",):
            for name, seconds in run_pipelines(mode, peer).items():
                rows.append((f"pipeline {name} ({mode} tasks)", seconds))
        if not args.skip_demo:
            timed_command("local", "down", env=env)
            rows.append(("mlops demo (its local up included)", timed_command("demo", env=env)))
    finally:
        subprocess.run([MLOPS, "local", "down"], cwd=ROOT, env=env, capture_output=True)
        shutil.rmtree(state, ignore_errors=True)
    print(f"\n{'what':42} {'seconds':>8} {'x':>6}")
    for what, seconds in rows:
        print(f"{what:42} {seconds:8.1f} {seconds / peer:6.0f}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
