"""`mlops local up|down|status`: the local platform of real servers on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlops.errors import MlopsError

if TYPE_CHECKING:
    from mlops.local.platform import LocalPlatform

app = typer.Typer(
    help="Start, stop and inspect the local platform (S3, MLflow, Feast, model server).",
    no_args_is_help=True,
)

StateDir = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        envvar="MLOPS_LOCAL_STATE_DIR",
        help="Where server data, pid files and logs live (default .mlops/).",
    ),
]


Team = Annotated[
    str | None,
    typer.Option(
        "--team",
        help="Work as this team of the dev stack's config (environments/Pulumi.dev.yaml): "
        "its MLflow workspace and pipeline user, its data prefix. Default: no team, the "
        "shared `pipelines` account in MLflow's default workspace.",
    ),
]


def _fail(exc: MlopsError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(exc.exit_code)


def _platform(state_dir: Path | None, **overrides: Any) -> LocalPlatform:
    from mlops.local.platform import LocalPlatform, LocalSettings
    from mlops.paths import project_root

    settings = LocalSettings(state_dir=state_dir or project_root() / ".mlops", **overrides)
    return LocalPlatform(settings)


def _progress(message: str) -> None:
    typer.echo(f"  {message}", err=True)


@app.command()
def up(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="MLflow backend: postgresql://... (default: SQLite in the state dir; "
            "`sqlite` switches back).",
        ),
    ] = None,
    redis: Annotated[
        str | None,
        typer.Option(
            "--redis",
            help="Feast online store redis://host:port[/db] (default SQLite; "
            "`sqlite` switches back).",
        ),
    ] = None,
    s3_port: Annotated[int | None, typer.Option(help="S3 port (default 8333).")] = None,
    mlflow_port: Annotated[int | None, typer.Option(help="MLflow port (default 5000).")] = None,
    model_port: Annotated[
        int | None, typer.Option(help="Model server port (default 8080).")
    ] = None,
    state_dir: StateDir = None,
) -> None:
    """Start the servers that are not running (idempotent) and wait until healthy."""
    try:
        platform = _platform(
            state_dir,
            db_url=db,
            redis_url=redis,
            s3_port=s3_port,
            mlflow_port=mlflow_port,
            model_port=model_port,
        )
        status = platform.up(progress=_progress)
    except MlopsError as exc:
        raise _fail(exc) from None
    _print_summary(status)


@app.command()
def down(state_dir: StateDir = None) -> None:
    """Stop the servers; every run, model, feature and object stays on disk."""
    try:
        stopped = _platform(state_dir).down(progress=_progress)
    except MlopsError as exc:
        raise _fail(exc) from None
    typer.echo("stopped: " + ", ".join(stopped) if stopped else "nothing was running")


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    state_dir: StateDir = None,
) -> None:
    """Endpoints and health of each server; exit 1 when any is not healthy."""
    try:
        result = _platform(state_dir).status()
    except MlopsError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps(result, indent=2, sort_keys=True))
    else:
        _print_summary(result)
    if not result["healthy"]:
        raise typer.Exit(1)


@app.command("env")
def env_command(team: Team = None, state_dir: StateDir = None) -> None:
    """Print `export` lines for a shell or notebook: eval "$(mlops local env --team NAME)".

    With --team: the team's MLflow user and password, workspace and data prefix (what its
    runs get in the cloud); without: the shared pipelines account in the default workspace.
    """
    import shlex

    try:
        values = _platform(state_dir).env(team)
    except MlopsError as exc:
        raise _fail(exc) from None
    for key, value in sorted(values.items()):
        typer.echo(f"export {key}={shlex.quote(value)}")


def _print_summary(status: dict[str, Any]) -> None:
    for name, server in status["servers"].items():
        health = (
            "healthy"
            if server["healthy"]
            else ("running, unhealthy" if server["running"] else "stopped")
        )
        extra = ""
        if name == "mlflow":
            extra = f"  backend {server['backend']}"
        elif name == "model":
            version = server["version"]
            whose = f" of team {server['team']}" if server.get("team") else ""
            extra = (
                f"  {server['model']} v{version}{whose}"
                if version
                else f"  {server['state']} ({server['model']}{whose})"
            )
        memory = f"  {server['rss_mb']:.0f} MB" if server["rss_mb"] else ""
        typer.echo(f"{name:<7} {server['endpoint']:<24} {health}{memory}{extra}")
    feast = status["feast"]
    registry = "applied" if feast["registry_exists"] else "not applied yet"
    typer.echo(
        f"{'feast':<7} {feast['registry']}  {registry}  online store {feast['online_store']}"
    )
    typer.echo(f"state   {status['state_dir']}")
