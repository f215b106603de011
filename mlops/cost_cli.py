"""`mlops cost ENV`: the monthly estimate of an environment's plan, as a table or JSON."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from mlops.errors import MlopsError

SHARED = "shared"
# what marks a team's resources: the AWS tag, the Kubernetes label, the team namespace
TEAM_TAG = "team"
TEAM_LABEL = "mlops.platform/team"
TEAM_NAMESPACE_PREFIX = "team-"


def _own_team(resource: dict[str, Any]) -> str | None:
    inputs = resource.get("inputs") or {}
    tags = inputs.get("tags")
    if isinstance(tags, dict) and isinstance(tags.get(TEAM_TAG), str):
        return str(tags[TEAM_TAG])
    metadata = inputs.get("metadata")
    if isinstance(metadata, dict):
        labels = metadata.get("labels")
        if isinstance(labels, dict) and isinstance(labels.get(TEAM_LABEL), str):
            return str(labels[TEAM_LABEL])
        namespace = metadata.get("namespace")
        if isinstance(namespace, str) and namespace.startswith(TEAM_NAMESPACE_PREFIX):
            return namespace.removeprefix(TEAM_NAMESPACE_PREFIX)
    return None


def team_of(urn: str, resources: dict[str, dict[str, Any]]) -> str:
    """The team a resource is specific to: its own tag, label or namespace, else its
    nearest ancestor's; otherwise it serves every team (`SHARED`)."""
    seen: set[str] = set()
    current: str | None = urn
    while current and current in resources and current not in seen:
        seen.add(current)
        team = _own_team(resources[current])
        if team:
            return team
        current = resources[current].get("parent")
    return SHARED


def by_team(report: dict[str, Any], resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The report's total split into a line per team and one of what they share. Every team
    with a resource in the plan has a line, priced or not (roles and namespaces are free;
    its pods run on the shared node groups)."""
    lines: dict[str, float] = {}
    for item in report["items"]:
        team = team_of(item["urn"], resources)
        lines[team] = lines.get(team, 0.0) + item["monthly_usd"]
    teams = sorted({team_of(urn, resources) for urn in resources} - {SHARED})
    return {
        "environment": report["environment"],
        "monthly_usd": report["monthly_usd"],
        "by_team": [
            {"team": t, "monthly_usd": round(lines.get(t, 0.0), 2)} for t in [*teams, SHARED]
        ],
    }


def cost_report(env: str, plan: dict[str, Any] | None = None) -> dict[str, Any]:
    """Plan ENV and price it: the contract's cost plus the table it was priced with."""
    from mlops.cost import estimate, load_prices
    from mlops.engine.plan import plan_environment

    plan = plan if plan is not None else plan_environment(env)
    prices = load_prices()
    cost = estimate(plan, prices)
    names = {r["urn"]: (r["type"], r["name"]) for r in plan["resources"]}
    return {
        "environment": plan["environment"],
        "prices": {
            "region": prices.region,
            "as_of": prices.as_of,
            "hours_per_month": prices.hours,
            "spot_discount": prices.spot_discount,
        },
        "monthly_usd": cost["monthly_usd"],
        "items": [
            {**item, "type": names[item["urn"]][0], "name": names[item["urn"]][1]}
            for item in cost["items"]
        ],
    }


def _print_table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from mlops.cost import usd
    from mlops.render import short_type

    prices = report["prices"]
    table = Table(
        title=f"Estimated monthly cost of {report['environment']}",
        caption=(
            f"{prices['region']} list prices as of {prices['as_of']} (refresh "
            f"infra/base/prices-{prices['region']}.yaml); spot assumed "
            f"{prices['spot_discount']:.0%} below on-demand; usage charges not estimated"
        ),
    )
    table.add_column("resource")
    table.add_column("type")
    table.add_column("monthly", justify="right")
    table.add_column("basis")
    # biggest first for a reader; the JSON keeps the contract's URN order
    for item in sorted(report["items"], key=lambda i: (-i["monthly_usd"], i["name"], i["urn"])):
        table.add_row(
            item["name"], short_type(item["type"]), usd(item["monthly_usd"]), item["basis"]
        )
    table.add_section()
    table.add_row("[bold]total[/]", "", f"[bold]{usd(report['monthly_usd'])}[/]", "")
    Console().print(table)


def _print_teams(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from mlops.cost import usd

    table = Table(
        title=f"Estimated monthly cost of {report['environment']} by team",
        caption="a team's line: resources tagged or labelled with it, or in its namespace",
    )
    table.add_column("team")
    table.add_column("monthly", justify="right")
    for line in report["by_team"]:
        table.add_row(line["team"], usd(line["monthly_usd"]))
    table.add_section()
    table.add_row("[bold]total[/]", f"[bold]{usd(report['monthly_usd'])}[/]")
    Console().print(table)


def cost_command(
    env: Annotated[str, typer.Argument(help="Environment (stack) name: dev, staging, prod.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the estimate as JSON.")] = False,
    by: Annotated[
        str | None,
        typer.Option(
            "--by", help="Group the estimate: 'team' (team-specific lines, the rest shared)."
        ),
    ] = None,
) -> None:
    """Estimate ENV's monthly AWS cost from its offline plan and the bundled price table."""
    if by not in (None, "team"):
        typer.echo(f"error: --by: {by!r} is not a grouping (use 'team')", err=True)
        raise typer.Exit(2)
    try:
        from mlops.engine.plan import plan_environment

        plan = plan_environment(env)
        report = cost_report(env, plan)
    except MlopsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    if by == "team":
        report = by_team(report, {r["urn"]: r for r in plan["resources"]})
        if as_json:
            sys.stdout.write(json.dumps(report, indent=2, sort_keys=True) + "\n")
        else:
            _print_teams(report)
        return
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2, sort_keys=True) + "\n")
    else:
        _print_table(report)
