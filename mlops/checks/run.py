"""The checks `mlops plan` (and `mlops policy check --program`) run on every planned
program; the first refusal fails the plan (exit 1), naming the resource."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops.checks.identity import duplicates
from mlops.checks.images import upstream_image_problems, workflow_problems
from mlops.checks.kfp_release import kfp_release_problems
from mlops.checks.served import served_problems
from mlops.checks.upstream import Inventories
from mlops.paths import PACKAGE_DIR

CHECKOUT = PACKAGE_DIR.parent


def refusals(plan: dict[str, Any]) -> list[str]:
    cwd = Path(plan["_cwd"])
    resources = plan["resources"]
    # the program's own inventories, and this checkout's (facts about upstream sources)
    inventories = Inventories.load(dict.fromkeys([cwd, CHECKOUT / "infra"]))
    return [
        *(f"image rule: {p}" for p in workflow_problems(CHECKOUT)),
        *(f"KFP release: {p}" for p in kfp_release_problems(CHECKOUT)),
        *(
            f"object identity: {p}"
            for p in duplicates(resources, plan["_providers"], cwd, inventories)
        ),
        *(f"image rule: {p}" for p in upstream_image_problems(resources, cwd, inventories)),
        *(
            f"served kinds: {p}"
            for p in served_problems(resources, plan["_providers"], cwd, inventories)
        ),
    ]
