"""`mlops cost ENV`: the monthly estimate of an environment's plan, as a table or JSON."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from mlops.errors import MlopsError


def cost_report(env: str) -> dict[str, Any]:
    """Plan ENV and price it: the contract's cost plus the table it was priced with."""
    from mlops.cost import estimate, load_prices
    from mlops.engine.plan import plan_environment

    plan = plan_environment(env)
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


def cost_command(
    env: Annotated[str, typer.Argument(help="Environment (stack) name: dev, staging, prod.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the estimate as JSON.")] = False,
) -> None:
    """Estimate ENV's monthly AWS cost from its offline plan and the bundled price table."""
    try:
        report = cost_report(env)
    except MlopsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2, sort_keys=True) + "\n")
    else:
        _print_table(report)
