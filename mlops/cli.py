"""The `mlops` command.

Sub-command modules keep heavy imports inside their functions so that
`mlops --help` and `mlops plan` start fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from mlops import shortlived
from mlops.cost_cli import cost_command
from mlops.errors import MlopsError
from mlops.local_cli import app as local_app
from mlops.model_cli import app as model_app
from mlops.pipeline_cli import app as pipeline_app
from mlops.policy_cli import app as policy_app
from mlops.review import review_command
from mlops.scan_cli import scan_command

app = typer.Typer(
    name="mlops",
    help="Plan, check, price and run the MLOps platform offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Sub-commands: each module keeps its heavy imports inside its command functions.
app.add_typer(local_app, name="local", help="Run the platform locally on real servers.")
app.add_typer(pipeline_app, name="pipeline", help="List, compile, run and submit pipelines.")
app.add_typer(model_app, name="model", help="Promote, roll back and show models.")
app.add_typer(policy_app, name="policy", help="Check the governance policy pack offline.")
app.command("cost")(cost_command)
app.command("review")(review_command)
app.command("scan")(scan_command)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one line to stderr and return the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@app.command()
def plan(
    env: Annotated[str, typer.Argument(help="Environment (stack) name: dev, staging, prod.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print a summary table and a Mermaid diagram.")
    ] = False,
    manifests: Annotated[
        Path | None,
        typer.Option("--manifests", help="Write every Kubernetes object and Helm release here."),
    ] = None,
    terraform_plan: Annotated[
        Path | None,
        typer.Option("--terraform-plan", help="Write the plan as Terraform plan JSON (scanners)."),
    ] = None,
) -> None:
    """Plan ENV offline under Pulumi mocks (and moto) and show what it would create."""
    shortlived.mark()
    from mlops.engine.plan import plan_environment
    from mlops.render import render_markdown, render_tree, to_json

    if as_json and markdown:
        raise fail("--json and --markdown cannot be combined")
    try:
        result = plan_environment(env)
    except MlopsError as exc:
        raise fail(str(exc), exc.exit_code) from None
    if manifests is not None:
        from mlops.manifests import write_manifests

        written = write_manifests(result, manifests)
        if not (as_json or markdown):
            typer.echo(f"wrote {len(written)} manifest file(s) to {manifests}", err=True)
    if terraform_plan is not None:
        from mlops.scan import write_terraform_plan

        try:
            count = write_terraform_plan(result, terraform_plan)
        except MlopsError as exc:
            raise fail(str(exc), exc.exit_code) from None
        if not (as_json or markdown):
            typer.echo(f"wrote {count} Terraform resource(s) to {terraform_plan}", err=True)
    if as_json:
        sys.stdout.write(to_json(result))
    elif markdown:
        sys.stdout.write(render_markdown(result))
    else:
        render_tree(result)


@app.command()
def demo() -> None:
    """Run the main flow on the embedded local defaults."""
    from mlops.demo import run_demo

    try:
        run_demo()
    except MlopsError as exc:
        raise fail(str(exc), exc.exit_code) from None


# The commands that plan (argv prefixes). moto's helper takes ~2 s to warm up, longer
# than a prod plan's own work before it needs it, and parsing the command line (typer,
# pydantic) takes ~0.3 s: these start it first. A helper started for nothing (a usage
# error) ends with this process.
_PLANNING = (("plan",), ("policy", "check"), ("cost",), ("review",), ("demo",), ("scan",))


def _starts_planning(argv: list[str]) -> bool:
    return not {"--help", "-h"} & set(argv) and any(
        tuple(argv[: len(prefix)]) == prefix for prefix in _PLANNING
    )


def main() -> None:
    shortlived.own_process = True
    from mlops.engine import internals

    try:
        internals.speedups_on()  # a bad switch is a usage error before anything runs
    except MlopsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(exc.exit_code) from None
    if _starts_planning(sys.argv[1:]):
        from mlops.engine import aws_worker

        aws_worker.start(aws_worker.DEFAULT_REGION)
    try:
        app()
    except SystemExit as exc:
        if not shortlived.skip_teardown:
            raise
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exc.code if isinstance(exc.code, int) else 1)


if __name__ == "__main__":
    main()
