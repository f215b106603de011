"""`mlops model promote|rollback|show`: champion/challenger on the MLflow registry."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from mlops.errors import MlopsError, UsageError

app = typer.Typer(help="Promote, roll back and inspect registered models.", no_args_is_help=True)

TrackingUri = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        envvar="MLFLOW_TRACKING_URI",
        help="MLflow server (default $MLFLOW_TRACKING_URI, else the local platform's).",
    ),
]


def _client(tracking_uri: str | None) -> Any:
    # Fail fast on an unreachable server instead of MLflow's minutes of retries.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "15")
    from mlops_runtime.model_ops import client_from_env

    if not tracking_uri:
        # Nothing exported: the local platform's server (`mlops local up`).
        from mlops.local.platform import LocalPlatform

        tracking_uri = LocalPlatform().mlflow_uri
    return client_from_env(tracking_uri)


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
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
) -> None:
    """Promote a challenger to champion if it beats the champion on the holdout set."""
    from mlops_runtime import model_ops

    try:
        client = _client(tracking_uri)
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
        typer.echo(f"{verb} {name} v{decision.version}: {decision.reason}")
    if not decision.promoted:
        raise typer.Exit(3)  # a rejection is not an error, but scripts must tell it apart


@app.command()
def rollback(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    approver: Annotated[str, typer.Option(help="Who approves (recorded).")] = "",
    reason: Annotated[str, typer.Option(help="Why (recorded).")] = "",
    tracking_uri: TrackingUri = None,
) -> None:
    """Restore the previous champion."""
    from mlops_runtime import model_ops

    try:
        decision = model_ops.rollback(
            _client(tracking_uri),
            name,
            approver=approver or os.environ.get("USER", ""),
            reason=reason,
        )
    except MlopsError as exc:
        raise _fail(exc) from None
    except Exception as exc:
        raise _unexpected(exc) from None
    typer.echo(
        f"rolled back {name}: champion is v{decision.version} (was v{decision.previous_champion})"
    )


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    tracking_uri: TrackingUri = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Aliases, versions with their promotion tags, and the audit trail."""
    from mlops_runtime import model_ops

    try:
        info = model_ops.show(_client(tracking_uri), name)
    except MlopsError as exc:
        raise _fail(exc) from None
    except Exception as exc:
        raise _unexpected(exc) from None
    if as_json:
        typer.echo(json.dumps(info, indent=2, sort_keys=True))
        return
    aliases = ", ".join(f"{k}=v{v}" for k, v in info["aliases"].items()) or "none"
    typer.echo(f"{name}: {len(info['versions'])} version(s); aliases: {aliases}")
    for entry in info["audit"]:
        typer.echo(
            f"  {entry['at']}  {entry['action']:<8} v{entry['version']} "
            f"(from v{entry['previous_champion']})  {entry['reason']}"
        )
