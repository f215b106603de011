"""`mlops pipeline list|compile|run|submit`: the sample KFP pipelines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mlops.errors import MlopsError, UsageError
from mlops.local_cli import Team

app = typer.Typer(
    help="List, compile, run locally and submit the KFP pipelines.", no_args_is_help=True
)

Params = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="Pipeline parameter key=value (JSON for lists/dicts)."),
]


def _fail(exc: MlopsError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(exc.exit_code)


@app.command("list")
def list_pipelines(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The pipelines and their parameters."""
    from mlops.pipeline_runner import describe

    rows = describe()
    if as_json:
        typer.echo(json.dumps(rows, indent=2, sort_keys=True))
        return
    for row in rows:
        params = ", ".join(f"{k}:{v['type']}" for k, v in row["parameters"].items())
        typer.echo(f"{row['name']:<10} {row['description']}")
        if params:
            typer.echo(f"{'':<10} params: {params}")


@app.command("compile")
def compile_(
    names: Annotated[list[str] | None, typer.Argument(help="Pipelines (default: all).")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output directory (default pipelines/compiled).")
    ] = None,
    image: Annotated[
        str | None,
        typer.Option(
            envvar="MLOPS_PIPELINE_IMAGE", help="Component image (the ECR repo in the cloud)."
        ),
    ] = None,
) -> None:
    """Compile pipelines to KFP IR YAML."""
    from mlops.pipeline_runner import COMPILED_DIR, compile_pipeline, get_pipeline, pipelines

    try:
        selected = names or sorted(pipelines())
        for name in selected:
            get_pipeline(name)
        for name in selected:
            typer.echo(str(compile_pipeline(name, out or COMPILED_DIR, image)))
    except MlopsError as exc:
        raise _fail(exc) from None


@app.command()
def run(
    name: Annotated[str, typer.Argument(help="Pipeline name.")],
    local: Annotated[
        bool, typer.Option("--local", help="Run on this machine against the local platform.")
    ] = False,
    param: Params = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Hide task logs.")] = False,
    team: Team = None,
) -> None:
    """Run a pipeline locally (KFP SubprocessRunner) against the local platform.

    With --team the steps run as that team: runs, registered models and promotions in its
    MLflow workspace, data and published models under its prefix. Without it they use what
    `mlops local env --team` exported, else the shared pipelines account in the default
    workspace; the first line on stderr says which.

    Each task is reported on stderr as it starts and ends (name, duration, outcome, a failed
    task's error); the task logs go to stdout unless --quiet.
    """
    from rich.console import Console

    from mlops.pipeline_runner import (
        ConsoleProgress,
        describe_identity,
        parse_params,
        platform_env,
        run_local,
        team_params,
        warm_tasks,
    )

    try:
        params = parse_params(name, param or [])
        if not local:
            raise MlopsError("only --local runs here; use `mlops pipeline submit` for Kubeflow")
        from mlops.local.teams import check_team

        params = team_params(name, params, check_team(team))
        env = platform_env(team)
        console = Console(stderr=True)
        console.print(f"pipeline {name} {describe_identity(env)}", markup=False, soft_wrap=True)
        # a spinner would be torn by the task logs streaming on stdout
        progress = ConsoleProgress(console, live=console.is_terminal and quiet)
        with warm_tasks() as tasks:
            result = run_local(
                name, params, env=env, echo=not quiet, progress=progress, tasks=tasks
            )
    except MlopsError as exc:
        raise _fail(exc) from None
    typer.echo(f"pipeline {name} succeeded in {result.seconds:.1f} s (outputs under {result.root})")


@app.command()
def submit(
    name: Annotated[str, typer.Argument(help="Pipeline name.")],
    host: Annotated[str, typer.Option(help="Kubeflow Pipelines API endpoint.")],
    namespace: Annotated[str | None, typer.Option(help="Kubeflow namespace.")] = None,
    experiment: Annotated[str | None, typer.Option(help="Kubeflow experiment.")] = None,
    param: Params = None,
    image: Annotated[
        str | None, typer.Option(envvar="MLOPS_PIPELINE_IMAGE", help="Component image.")
    ] = None,
    team: Annotated[
        str | None,
        typer.Option(
            "--team",
            help="Run as this team of ENV's config: as pipeline-runner-<team>, reading "
            "mlops-pipelines-env-<team> (its MLflow workspace, pipeline user and prefix).",
        ),
    ] = None,
    env: Annotated[
        str | None,
        typer.Option("--env", help="The environment (stack) whose cluster HOST is (with --team)."),
    ] = None,
) -> None:
    """Compile and submit a pipeline run to Kubeflow."""
    from mlops.local.teams import check_team
    from mlops.pipeline_runner import parse_params
    from mlops.pipeline_runner import submit as submit_run

    try:
        if team is not None and env is None:
            # a team of one stack may not exist in another's cluster: say which
            raise UsageError("--team needs --env: the environment whose config declares it")
        params = parse_params(name, param or [])
        run_id = submit_run(
            name,
            host,
            namespace=namespace,
            experiment=experiment,
            params=params,
            image=image,
            team=check_team(team, env) if env else None,
        )
    except MlopsError as exc:
        raise _fail(exc) from None
    typer.echo(f"submitted {name}: run {run_id}" + (f" as team {team}" if team else ""))
