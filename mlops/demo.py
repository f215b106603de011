"""`mlops demo`: the main flow on the embedded local defaults, nothing from the cloud.

Local platform up -> features -> validation, training sweep, evaluation and promotion,
deployment (the training pipeline) -> predictions from the served champion -> drift
report -> offline plans of every environment -> one summary. Each pipeline task is shown as
it starts and ends. The platform's state dir is MLOPS_LOCAL_STATE_DIR (default .mlops/).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from mlops.engine.plan import plan_environment
from mlops.engine.stack_config import available_stacks, load_project
from mlops.errors import MlopsError
from mlops.paths import project_root

if TYPE_CHECKING:
    from mlops.pipeline_runner import WarmTasks

ENV_ORDER = {"dev": 0, "staging": 1, "prod": 2}


def plan_all(console: Console) -> list[dict[str, Any]]:
    """Plan every environment offline and print one summary table."""
    project = load_project(project_root())
    table = Table(
        "environment",
        "resources",
        "components",
        "policy violations (mandatory/advisory)",
        "monthly cost",
        "plan time",
        title="Offline plans (Pulumi mocks + moto)",
    )
    rows = []
    for env in sorted(available_stacks(project), key=lambda e: (ENV_ORDER.get(e, 3), e)):
        started = time.perf_counter()
        plan = plan_environment(env)
        elapsed = time.perf_counter() - started
        custom = [r for r in plan["resources"] if r["custom"]]
        components = [r for r in plan["resources"] if r["type"].startswith("mlops:")]
        violations = plan["policies"]["violations"]
        mandatory = sum(1 for v in violations if v["enforcement"] == "mandatory")
        table.add_row(
            env,
            str(len(custom)),
            str(len(components)),
            f"{mandatory}/{len(violations) - mandatory}",
            f"${plan['cost']['monthly_usd']:,.2f}",
            f"{elapsed:.2f} s",
        )
        rows.append({"environment": env, "resources": len(custom), "seconds": elapsed})
    console.print(table)
    return rows


def _latest_drift(tracking_uri: str) -> dict[str, float]:
    from mlflow.tracking import MlflowClient

    from pipelines import settings

    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(settings.DRIFT_EXPERIMENT)
    if experiment is None:
        return {}
    runs = client.search_runs(
        [experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=1
    )
    return dict(runs[0].data.metrics) if runs else {}


def run_ml_flow(console: Console) -> dict[str, Any]:
    """The data scientist's loop on the local platform; returns the figures it measured."""
    from mlops.pipeline_runner import warm_tasks

    # The pipelines' libraries load in the warm task server while the servers start.
    with warm_tasks() as tasks:
        return _ml_flow(console, tasks)


def _ml_flow(console: Console, tasks: WarmTasks) -> dict[str, Any]:
    from mlops.local.platform import LocalPlatform, LocalSettings
    from mlops.pipeline_runner import ConsoleProgress, platform_env, run_local
    from mlops_runtime.model_ops import alias_version, client_from_env
    from pipelines import settings
    from pipelines.data import default_holdout, feature_columns
    from pipelines.serving import infer, record_inference_inputs

    figures: dict[str, Any] = {}
    state_dir = os.environ.get(settings.LOCAL_STATE_ENV)
    platform = LocalPlatform(LocalSettings(state_dir=Path(state_dir)) if state_dir else None)
    started = time.perf_counter()
    platform.up(progress=lambda message: console.print(f"  {message}"))
    figures["local up"] = time.perf_counter() - started
    env = platform_env()
    # this process reads and writes the local S3 and MLflow too (predictions, drift inputs)
    os.environ.update(env)
    progress = ConsoleProgress(console)

    def pipeline(name: str) -> float:
        console.print(f"[bold]pipeline {name}[/]")
        return run_local(name, env=env, echo=False, progress=progress, tasks=tasks).seconds

    for name in ("features", "training"):
        figures[f"pipeline {name}"] = pipeline(name)

    model = settings.MODEL_NAME
    client = client_from_env(platform.mlflow_uri)
    champion = alias_version(client, model, "champion")
    holdout = default_holdout()
    inputs = holdout[feature_columns()]
    predictions = infer(platform.model_server_url, model, inputs.head(5))
    # the holdout rows stand in for the "recent inference inputs" drift compares
    record_inference_inputs(model, inputs)
    figures["pipeline drift"] = pipeline("drift")
    drift = _latest_drift(platform.mlflow_uri)
    return {
        "mlflow": platform.mlflow_uri,
        "model_endpoint": f"{platform.model_server_url}/v2/models/{model}/infer",
        "model": model,
        "champion": champion,
        "predictions": predictions,
        "labels": holdout[settings.LABEL].head(5).tolist(),
        "drift": drift,
        "figures": figures,
    }


def _step(name: str, fn: Callable[[], Any]) -> Any:
    """Run one part of the demo; anything unexpected becomes one line naming the part."""
    try:
        return fn()
    except MlopsError:
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise MlopsError(f"demo failed in {name}: {type(exc).__name__}: {first}") from exc


def run_demo() -> None:
    console = Console()
    console.rule("Data scientist's loop on the local platform")
    result = _step("the local ML loop", lambda: run_ml_flow(console))
    console.rule("Platform team's offline review")
    plans = _step("the offline plans", lambda: plan_all(console))

    table = Table("what", "value", title="Demo summary")
    table.add_row("MLflow UI", result["mlflow"])
    table.add_row("model endpoint (Open Inference Protocol v2)", result["model_endpoint"])
    table.add_row("champion", f"{result['model']} version {result['champion']}")
    table.add_row("prediction (5 holdout rows)", str(result["predictions"]))
    table.add_row("true labels", str(result["labels"]))
    drift = result["drift"]
    if drift:
        table.add_row(
            "drift",
            f"share {drift.get('drift_share', 0):.2f}, "
            f"{'DRIFT' if drift.get('drift_detected') else 'no drift'}",
        )
    for name, seconds in result["figures"].items():
        table.add_row(name, f"{seconds:.1f} s")
    for row in plans:
        table.add_row(f"plan {row['environment']}", f"{row['resources']} resources")
    console.print(table)
    console.print("The local platform keeps running; stop it with `mlops local down`.")
