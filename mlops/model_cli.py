"""`mlops model promote|rollback|show`: champion/challenger on the MLflow registry."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from mlops.errors import MlopsError, UsageError
from mlops.local_cli import Team

app = typer.Typer(help="Promote, roll back and inspect registered models.", no_args_is_help=True)

TrackingUri = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        envvar="MLFLOW_TRACKING_URI",
        help="MLflow server (default $MLFLOW_TRACKING_URI, else the local platform's).",
    ),
]


def _local_platform() -> Any:
    from mlops.local.platform import LocalPlatform, LocalSettings

    # the platform `mlops local up --state-dir` (or MLOPS_LOCAL_STATE_DIR) started
    state_dir = os.environ.get("MLOPS_LOCAL_STATE_DIR")
    return LocalPlatform(LocalSettings(state_dir=Path(state_dir)) if state_dir else None)


def _client(tracking_uri: str | None, team: str | None = None) -> Any:
    """An MLflow client, as whom:

    * ``--team NAME``: the team's pipeline user in its workspace, on the local platform;
    * else what the shell exported (MLFLOW_TRACKING_USERNAME/PASSWORD, MLFLOW_WORKSPACE);
    * else, on the local platform, its shared ``pipelines`` account in the default
      workspace (never the admin).
    """
    # Fail fast on an unreachable server instead of MLflow's minutes of retries.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "15")
    from mlops.local.teams import check_team, identity_env
    from mlops_runtime.model_ops import client_from_env

    check_team(team)
    if team is not None:
        local = _local_platform()
        if tracking_uri and tracking_uri.rstrip("/") != local.mlflow_uri:
            raise UsageError(
                f"--team works on the local platform ({local.mlflow_uri}), not "
                f"{tracking_uri}; for another server export MLFLOW_TRACKING_USERNAME, "
                "MLFLOW_TRACKING_PASSWORD and MLFLOW_WORKSPACE"
            )
        # the team's identity, whatever the shell exported
        os.environ.update(identity_env(local.state_dir, team))
        tracking_uri = local.mlflow_uri
    elif not os.environ.get("MLFLOW_TRACKING_USERNAME"):
        local = _local_platform()
        if not tracking_uri or tracking_uri.rstrip("/") == local.mlflow_uri:
            # the local platform, nobody exported: its shared account, never the admin
            os.environ.update(identity_env(local.state_dir, None))
            tracking_uri = local.mlflow_uri
    elif not tracking_uri:
        tracking_uri = _local_platform().mlflow_uri
    # MLflow resolves a version's logged model (`models:/m-...`) through the process-wide
    # tracking URI whatever the client was given: the same server, never ./mlflow.db
    os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
    return client_from_env(tracking_uri)


def _as_whom() -> str:
    user = os.environ.get("MLFLOW_TRACKING_USERNAME") or "nobody"
    return f"(as {user} in MLflow workspace {os.environ.get('MLFLOW_WORKSPACE') or 'default'})"


def _fail(exc: MlopsError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(exc.exit_code)


def _unexpected(exc: Exception) -> typer.Exit:
    """MLflow and network errors: one line, not a traceback."""
    lines = str(exc).strip().splitlines()
    typer.echo(f"error: {type(exc).__name__}: {lines[0] if lines else ''}", err=True)
    return typer.Exit(1)


def _holdout(path: Path | None, label: str) -> Any:
    import pandas as pd

    if path is None:
        from pipelines.data import default_holdout

        return default_holdout()
    if not path.is_file():
        raise UsageError(f"holdout file {path} does not exist")
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    if label not in frame.columns:
        raise UsageError(f"holdout file {path} has no label column {label!r}")
    return frame


@app.command()
def promote(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[
        str | None, typer.Option(help="Version to promote (default: alias 'challenger').")
    ] = None,
    metric: Annotated[str, typer.Option(help="Metric compared on the holdout set.")] = "roc_auc",
    min_improvement: Annotated[
        float, typer.Option(help="Required improvement over the champion.")
    ] = 0.0,
    approver: Annotated[str, typer.Option(help="Who approves (recorded).")] = "",
    reason: Annotated[str, typer.Option(help="Why (recorded).")] = "",
    holdout: Annotated[
        Path | None,
        typer.Option(help="Holdout set (parquet or CSV); default the sample pipeline's holdout."),
    ] = None,
    label: Annotated[str, typer.Option(help="Label column of the holdout set.")] = "target",
    tracking_uri: TrackingUri = None,
    team: Team = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
) -> None:
    """Promote a challenger to champion if it beats the champion on the holdout set."""
    from mlops_runtime import model_ops

    try:
        client = _client(tracking_uri, team)
        evaluate = model_ops.holdout_evaluator(
            client, name, _holdout(holdout, label), label, metric
        )
        decision = model_ops.promote(
            client,
            name,
            evaluate,
            version=version,
            metric=metric,
            min_improvement=min_improvement,
            approver=approver or os.environ.get("USER", ""),
            reason=reason,
        )
    except MlopsError as exc:
        raise _fail(exc) from None
    except Exception as exc:
        raise _unexpected(exc) from None
    if as_json:
        typer.echo(json.dumps(decision.to_dict(), indent=2, sort_keys=True))
    else:
        verb = "promoted" if decision.promoted else "rejected"
        typer.echo(f"{verb} {name} v{decision.version} {_as_whom()}: {decision.reason}")
    if not decision.promoted:
        raise typer.Exit(3)  # a rejection is not an error, but scripts must tell it apart


@app.command()
def rollback(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    approver: Annotated[str, typer.Option(help="Who approves (recorded).")] = "",
    reason: Annotated[str, typer.Option(help="Why (recorded).")] = "",
    tracking_uri: TrackingUri = None,
    team: Team = None,
) -> None:
    """Restore the previous champion."""
    from mlops_runtime import model_ops

    try:
        decision = model_ops.rollback(
            _client(tracking_uri, team),
            name,
            approver=approver or os.environ.get("USER", ""),
            reason=reason,
        )
    except MlopsError as exc:
        raise _fail(exc) from None
    except Exception as exc:
        raise _unexpected(exc) from None
    typer.echo(
        f"rolled back {name} {_as_whom()}: champion is v{decision.version} "
        f"(was v{decision.previous_champion})"
    )


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    tracking_uri: TrackingUri = None,
    team: Team = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Aliases, versions with their promotion tags, and the audit trail."""
    from mlops_runtime import model_ops

    try:
        info = model_ops.show(_client(tracking_uri, team), name)
    except MlopsError as exc:
        raise _fail(exc) from None
    except Exception as exc:
        raise _unexpected(exc) from None
    if as_json:
        typer.echo(json.dumps(info, indent=2, sort_keys=True))
        return
    aliases = ", ".join(f"{k}=v{v}" for k, v in info["aliases"].items()) or "none"
    typer.echo(f"{name} {_as_whom()}: {len(info['versions'])} version(s); aliases: {aliases}")
    for entry in info["audit"]:
        typer.echo(
            f"  {entry['at']}  {entry['action']:<8} v{entry['version']} "
            f"(from v{entry['previous_champion']})  {entry['reason']}"
        )


@app.command("list")
def list_models(
    tracking_uri: TrackingUri = None,
    team: Team = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The registered models this account sees (its workspace's) and their champions."""
    from mlops_runtime import model_ops

    try:
        client = _client(tracking_uri, team)
        rows = [
            {
                "name": m.name,
                "champion": (m.aliases or {}).get(model_ops.CHAMPION),
            }
            for m in client.search_registered_models()
            if not m.name.endswith(model_ops.LOCK_SUFFIX)
        ]
    except MlopsError as exc:
        raise _fail(exc) from None
    except Exception as exc:
        raise _unexpected(exc) from None
    if as_json:
        typer.echo(json.dumps(rows, indent=2, sort_keys=True))
        return
    typer.echo(f"{len(rows)} registered model(s) {_as_whom()}")
    for row in rows:
        champion = f"champion v{row['champion']}" if row["champion"] else "no champion"
        typer.echo(f"  {row['name']}  {champion}")


@app.command()
def serve(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    team: Team = None,
) -> None:
    """Serve the model's champion on the local model server, from the team's workspace.

    The local platform has one model server: it serves the model last asked for (by this
    command or a pipeline's deploy step), and `mlops local up` serves it again.
    """
    try:
        platform = _local_platform()
        version = platform.reload_model(name, team)
    except MlopsError as exc:
        raise _fail(exc) from None
    whose = f"team {team}" if team else "no team (default workspace)"
    if version is None:
        raise _fail(MlopsError(f"{name!r} of {whose} has no champion to serve"))
    typer.echo(
        f"serving {name} v{version} of {whose} at "
        f"{platform.model_server_url}/v2/models/{name}/infer"
    )
