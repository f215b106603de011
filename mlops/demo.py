"""`mlops demo`: the main flow on the embedded local defaults, nothing from the cloud.

Local platform up -> as the first team of the dev stack: features -> validation, training
sweep, evaluation and promotion, deployment (the training pipeline) -> predictions from the
served champion -> drift report -> the second team's credentials refused by MLflow when they
read or promote the first team's model -> offline plans of every environment -> one
summary. Each pipeline task is shown as it starts and ends. The platform's state dir is
MLOPS_LOCAL_STATE_DIR (default .mlops/).
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


def _refused(
    mlflow_uri: str, identity: dict[str, str], method: str, path: str, body: Any = None
) -> tuple[bool, str]:
    """Call MLflow's REST API as `identity`; (refused, what the server answered)."""
    import json
    import urllib.error
    import urllib.request

    from mlops_runtime.local_serving import identity_headers

    headers = identity_headers(identity)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(
        f"{mlflow_uri}/api/2.0/mlflow/{path}", data=data, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return False, f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        text = exc.read().decode(errors="replace").strip()
        return exc.code in (401, 403), f"{exc.code} {text.splitlines()[0] if text else ''}"


def check_isolation(
    console: Console, mlflow_uri: str, state_dir: Path, owner: str, other: str, model: str
) -> list[str]:
    """`other`'s credentials try to read and to promote `owner`'s model; each must be
    refused by MLflow, and `owner`'s champion must not move. Returns the lines shown.

    Raises:
        MlopsError: A request that should have been refused was not.
    """
    from urllib.parse import quote

    from mlops.local.teams import identity_env
    from mlops_runtime import pipelines_env as penv
    from mlops_runtime.local_serving import champion_version

    owners = identity_env(state_dir, owner)
    champion = champion_version(mlflow_uri, model, owners)
    # the other team's user and password, asking for the owner's workspace
    intruder = {**identity_env(state_dir, other), penv.WORKSPACE_ENV: owner}
    attempts = [
        (
            f"read {owner}'s model",
            "GET",
            f"registered-models/get?name={quote(model)}",
            None,
        ),
        (
            f"promote {owner}'s model (set its champion alias)",
            "POST",
            "registered-models/alias",
            {"name": model, "alias": "champion", "version": champion or "1"},
        ),
    ]
    lines = []
    for what, method, path, body in attempts:
        refused, answer = _refused(mlflow_uri, intruder, method, path, body)
        if not refused:
            raise MlopsError(
                f"demo failed: team {other} could {what} ({answer}): teams are not isolated"
            )
        line = f"team {other} cannot {what}: refused by MLflow ({answer})"
        console.print(f"  [green]✓[/] {line}", soft_wrap=True)
        lines.append(line)
    after = champion_version(mlflow_uri, model, owners)
    if after != champion:
        raise MlopsError(f"demo failed: {owner}'s champion moved from v{champion} to v{after}")
    line = f"team {owner}'s champion is still v{champion}"
    console.print(f"  [green]✓[/] {line}")
    return [*lines, line]


def run_ml_flow(console: Console) -> dict[str, Any]:
    """The data scientist's loop on the local platform; returns the figures it measured."""
    from mlops.pipeline_runner import warm_tasks

    # The pipelines' libraries load in the warm task server while the servers start.
    with warm_tasks() as tasks:
        return _ml_flow(console, tasks)


def _ml_flow(console: Console, tasks: WarmTasks) -> dict[str, Any]:
    from mlops.local.platform import LocalPlatform, LocalSettings
    from mlops.local.teams import declared_teams
    from mlops.pipeline_runner import ConsoleProgress, describe_identity, platform_env, run_local
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
    teams = declared_teams()
    if len(teams) < 2:
        raise MlopsError(
            f"the demo needs two teams in environments/Pulumi.dev.yaml (teams:), found {len(teams)}"
        )
    owner, other = teams[0], teams[1]
    # the first team trains, promotes and serves: its workspace, its user, its prefix
    env = platform_env(owner)
    # this process reads and writes the local S3 and MLflow too (predictions, drift inputs)
    os.environ.update(env)
    progress = ConsoleProgress(console)
    console.print(f"[bold]team {owner}[/] {describe_identity(env)}", soft_wrap=True)

    def pipeline(name: str) -> float:
        console.print(f"[bold]pipeline {name}[/] (team {owner})")
        params = {"team": owner} if name == "training" else {}
        return run_local(name, params, env=env, echo=False, progress=progress, tasks=tasks).seconds

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
    console.print(f"[bold]team {other}[/] tries team {owner}'s model with its own credentials")
    isolation = check_isolation(
        console, platform.mlflow_uri, platform.state_dir, owner, other, model
    )
    return {
        "teams": (owner, other),
        "isolation": isolation,
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
    owner, other = result["teams"]
    table.add_row("MLflow UI", result["mlflow"])
    table.add_row("teams (environments/Pulumi.dev.yaml)", f"{owner} trains, promotes, serves")
    table.add_row("model endpoint (Open Inference Protocol v2)", result["model_endpoint"])
    table.add_row("champion", f"{result['model']} version {result['champion']} (workspace {owner})")
    table.add_row("prediction (5 holdout rows)", str(result["predictions"]))
    table.add_row("true labels", str(result["labels"]))
    drift = result["drift"]
    if drift:
        table.add_row(
            "drift",
            f"share {drift.get('drift_share', 0):.2f}, "
            f"{'DRIFT' if drift.get('drift_detected') else 'no drift'}",
        )
    table.add_row(
        f"team {other} on {owner}'s model",
        f"read and promote refused by MLflow; {owner}'s champion unchanged",
    )
    for name, seconds in result["figures"].items():
        table.add_row(name, f"{seconds:.1f} s")
    for row in plans:
        table.add_row(f"plan {row['environment']}", f"{row['resources']} resources")
    console.print(table)
    console.print("The local platform keeps running; stop it with `mlops local down`.")
