"""`mlops cost ENV --by team`: a line per team for what is specific to it, the rest shared."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from mlops.cli import app
from mlops.cost_cli import SHARED, by_team, team_of


def _r(urn: str, inputs: dict[str, Any], parent: str | None = None) -> dict[str, Any]:
    return {"urn": urn, "inputs": inputs, "parent": parent}


RESOURCES = {
    r["urn"]: r
    for r in (
        _r("role-fraud", {"tags": {"team": "fraud", "owner": "x"}}),
        _r("policy-fraud", {}, parent="role-fraud"),  # untagged child of a team's resource
        _r("cm-recsys", {"metadata": {"labels": {"mlops.platform/team": "recsys"}}}),
        _r("ing-churn", {"metadata": {"namespace": "team-churn", "name": "i"}}),
        _r("nat", {"tags": {"owner": "x"}}),
        _r("svc-mlflow", {"metadata": {"namespace": "mlflow"}}),
    )
}


def test_a_resource_belongs_to_the_team_its_tag_label_namespace_or_parent_names() -> None:
    assert team_of("role-fraud", RESOURCES) == "fraud"
    assert team_of("policy-fraud", RESOURCES) == "fraud"
    assert team_of("cm-recsys", RESOURCES) == "recsys"
    assert team_of("ing-churn", RESOURCES) == "churn"
    assert team_of("nat", RESOURCES) == SHARED
    assert team_of("svc-mlflow", RESOURCES) == SHARED


def test_lines_add_up_to_the_total_and_every_team_has_one() -> None:
    report = {
        "environment": "dev",
        "monthly_usd": 60.5,
        "items": [
            {"urn": "ing-churn", "monthly_usd": 18.0},
            {"urn": "nat", "monthly_usd": 32.5},
            {"urn": "svc-mlflow", "monthly_usd": 10.0},
        ],
    }
    lines = {line["team"]: line["monthly_usd"] for line in by_team(report, RESOURCES)["by_team"]}
    assert lines == {"churn": 18.0, "fraud": 0.0, "recsys": 0.0, SHARED: 42.5}
    assert round(sum(lines.values()), 2) == report["monthly_usd"]


def test_an_unknown_grouping_is_refused_before_planning() -> None:
    result = CliRunner().invoke(app, ["cost", "dev", "--by", "owner"])
    assert result.exit_code == 2
    assert "--by: 'owner' is not a grouping" in result.output
