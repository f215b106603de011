"""`mlops demo`: the main flow on the embedded local defaults, nothing from the cloud."""

from __future__ import annotations

import time

from rich.console import Console
from rich.table import Table

from mlops.engine.plan import plan_environment
from mlops.engine.stack_config import available_stacks, load_project
from mlops.paths import project_root


def plan_all(console: Console) -> None:
    """Plan every environment offline and print one summary table."""
    project = load_project(project_root())
    table = Table(
        "environment",
        "resources",
        "components",
        "plan time",
        "artifact bucket",
        title="Offline plans (Pulumi mocks + moto)",
    )
    order = {"dev": 0, "staging": 1, "prod": 2}
    for env in sorted(available_stacks(project), key=lambda e: (order.get(e, 3), e)):
        started = time.perf_counter()
        plan = plan_environment(env)
        elapsed = time.perf_counter() - started
        custom = [r for r in plan["resources"] if r["custom"]]
        components = [r for r in plan["resources"] if r["type"].startswith("mlops:")]
        table.add_row(
            env,
            str(len(custom)),
            str(len(components)),
            f"{elapsed:.2f} s",
            str(plan["outputs"].get("artifact_bucket", "-")),
        )
    console.print(table)


def run_demo() -> None:
    console = Console()
    plan_all(console)
