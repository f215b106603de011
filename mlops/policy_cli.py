"""`mlops policy check`: the governance pack, offline, on an environment or any program."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Evaluate the CrossGuard policy pack offline.", no_args_is_help=True)


@app.callback()
def policy() -> None:
    """Evaluate the CrossGuard policy pack offline."""
    # a callback keeps `check` a sub-command (typer collapses single-command apps)


def _render(result: dict[str, Any], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    violations = result.get("violations", [])
    table = Table(title=title, show_lines=False)
    table.add_column("enforcement", no_wrap=True)
    table.add_column("policy", no_wrap=True)
    table.add_column("resource", overflow="fold")
    table.add_column("message", overflow="fold", ratio=1)
    for v in violations:
        urn = v.get("urn") or "(stack)"
        resource = urn.rsplit("::", 1)[-1] if "::" in urn else urn
        style = "red" if v.get("enforcement") == "mandatory" else "yellow"
        table.add_row(
            f"[{style}]{v.get('enforcement')}[/{style}]",
            v.get("policy", ""),
            resource,
            v.get("message", ""),
        )
    if violations:
        console.print(table)
    mandatory = sum(1 for v in violations if v.get("enforcement") == "mandatory")
    console.print(
        f"{result.get('pack')}: {result.get('evaluated')} evaluations, "
        f"{mandatory} mandatory and {len(violations) - mandatory} advisory violation(s)"
    )


@app.command()
def check(
    envs: Annotated[
        list[str] | None,
        typer.Argument(help="Environment(s) (stacks): dev, staging, prod.", show_default=False),
    ] = None,
    program: Annotated[
        Path | None, typer.Option("--program", help="Any Pulumi Python program directory.")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Stack config file of --program (Pulumi.<stack>.yaml)."),
    ] = None,
    policy_config: Annotated[
        Path | None,
        typer.Option(
            "--policy-config",
            help="Pack config JSON for --program (default: every rule at its default level).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    payload_out: Annotated[
        Path | None,
        typer.Option(
            "--payload-out",
            help="Also write the pack's input (one ENV or --program; "
            "resources as the pack sees them, secret values included) to this file, "
            "to evaluate it with another pack (CI: the base branch's).",
        ),
    ] = None,
) -> None:
    """Evaluate the pack on ENV's offline plan, or on --program; exit 1 on a mandatory violation."""
    from mlops import shortlived
    from mlops.errors import MlopsError
    from mlops.policy_check import check_environments, check_program, mandatory_violations

    shortlived.mark()

    def fail(message: str, code: int = 2) -> typer.Exit:
        typer.echo(f"error: {message}", err=True)
        if as_json:  # stdout stays one parseable document, a refusal included
            sys.stdout.write(json.dumps({"error": message, "exit": code}) + "\n")
        return typer.Exit(code)

    if (not envs) == (program is None):
        raise fail("give exactly one of ENV or --program PATH")
    if program is None and (config is not None or policy_config is not None):
        raise fail("--config and --policy-config go with --program")
    if payload_out is not None and len(envs or []) > 1:
        raise fail("--payload-out takes one ENV (or --program)")
    results: dict[str, dict[str, Any]] = {}
    payloads: dict[str, dict[str, Any]] | None = {} if payload_out is not None else None
    try:
        if program is not None:
            results[f"policy check: {program}"] = check_program(
                program, config, policy_config=policy_config, payloads=payloads
            )
        else:
            results.update(check_environments(envs or [], payloads=payloads))
    except MlopsError as exc:
        raise fail(str(exc), exc.exit_code) from None
    if payload_out is not None:
        try:
            assert payloads  # filled by the check
            payload_out.write_text(json.dumps(next(iter(payloads.values())), sort_keys=True))
        except OSError as exc:
            raise fail(f"{payload_out}: {exc.strerror or exc}") from None
    if as_json:
        # one environment (or a program): its result; several: keyed by environment
        shown: Any = next(iter(results.values())) if len(results) == 1 else results
        sys.stdout.write(json.dumps(shown, indent=2, sort_keys=True) + "\n")
    else:
        for title, result in results.items():
            _render(result, title if program is not None else f"policy check: {title}")
    if any(mandatory_violations(result) for result in results.values()):
        raise typer.Exit(1)
