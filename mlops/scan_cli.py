"""`mlops scan ENV...`: checkov on each environment's plan and manifests."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer


def scan_command(
    envs: Annotated[list[str], typer.Argument(help="Environment(s): dev, staging, prod.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    suppressions: Annotated[
        Path | None,
        typer.Option("--suppressions", help="Suppression file (default scan/suppressions.yaml)."),
    ] = None,
    keep: Annotated[
        Path | None,
        typer.Option("--keep", help="Keep what checkov read (plan JSON, manifests) here."),
    ] = None,
) -> None:
    """Run checkov on ENV's plan (as Terraform plan JSON) and its Kubernetes objects; exit 1
    on a failed check that scan/suppressions.yaml does not accept with a reason."""
    from mlops import shortlived
    from mlops.errors import MlopsError

    shortlived.mark()
    from mlops.engine.plan import plan_environments
    from mlops.scan import load_suppressions, render_text, scan_plans

    try:
        rules = load_suppressions(suppressions) if suppressions else load_suppressions()
        result = scan_plans(plan_environments(list(dict.fromkeys(envs))), rules, keep)
    except MlopsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    if as_json:
        sys.stdout.write(json.dumps(result.as_json(), indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(render_text(result))
    if result.failed:
        raise typer.Exit(1)
