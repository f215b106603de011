"""Adding a team is one entry in a stack's config, and the plan grows by that team's
resources alone: nothing is removed, no other team's resource changes, and the shared
resources that change are the ones that list the teams (who may call a service, the MLflow
workspaces and their users)."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import yaml
from plans import ROOT, plan, stack_values

from mlops.engine.plan import plan_environment

TEAM = "churn"
# shared resources whose inputs enumerate the teams
LISTS_THE_TEAMS = {
    "mlflow-access",  # the server reads each workspace's artifacts
    "mlflow-sa",  # the calls it makes as that role (its annotation)
    "mlflow-teams",  # the workspaces the Job reconciles
    "mlflow-users",  # their users' passwords
    "mlflow-users-job",  # named by the spec's hash: runs again
    "mlflow-netpol-mlflow",
    "feast-allow-clients",
    "kfp-allow-api-clients",
    "monitoring-allow-pushgateway",
    "kfp-upstream",  # installed after every object KFP's slice owns
}


def _grown(env: str) -> dict[str, Any]:
    values = copy.deepcopy(stack_values(env))
    values["config"]["mlops-platform:platform"]["teams"].append(
        {"name": TEAM, "mlflow_users": ["carol"]}
    )
    with tempfile.TemporaryDirectory(prefix="third-team-") as tmp_dir:
        path = Path(tmp_dir) / f"Pulumi.{env}.yaml"
        path.write_text(yaml.safe_dump(values))
        return plan_environment(env, ROOT, config_file=path)


def test_a_third_team_adds_its_own_resources_and_nothing_else() -> None:
    base = {r["urn"]: r for r in plan("dev")["resources"]}
    grown = {r["urn"]: r for r in _grown("dev")["resources"]}
    assert not set(base) - set(grown), "adding a team removed resources"
    added = [grown[u] for u in sorted(set(grown) - set(base))]
    assert added and all(TEAM in r["name"] or "carol" in r["name"] for r in added), [
        r["name"] for r in added if TEAM not in r["name"]
    ]
    # what it adds: its namespace, its IRSA roles, its runner, its MLflow users, its env
    names = {r["name"] for r in added}
    assert {
        f"tenant-{TEAM}-ns",
        f"teams-{TEAM}",
        f"kfp-runner-{TEAM}",
        f"kfp-pipelines-env-{TEAM}",
        f"kfp-pipelines-credentials-{TEAM}",
        f"mlflow-user-{TEAM}-pipelines-password",
        "mlflow-user-carol-password",
    } <= names
    # every AWS resource of the team that takes tags carries team=<name> (its cost line)
    for r in added:
        tags = r["inputs"].get("tags")
        if r["type"].startswith("aws:") and tags is not None:
            assert tags.get("team") == TEAM, r["name"]
    changed = {base[u]["name"] for u in set(base) & set(grown) if base[u] != grown[u]}
    assert changed <= LISTS_THE_TEAMS, changed - LISTS_THE_TEAMS
    assert not any(
        n.startswith(("tenant-fraud", "teams-fraud", "kfp-runner-fraud")) for n in changed
    )
