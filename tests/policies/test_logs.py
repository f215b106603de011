"""Logs: CloudWatch log groups expire their events."""

from __future__ import annotations

from typing import Any

import pytest
from harness import messages, res, unseen

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def group(**inputs: Any) -> list[dict[str, Any]]:
    return [res(LOG_GROUP, "g", {"name": "/aws/eks/acme/cluster", **inputs})]


def test_log_group_with_retention_passes() -> None:
    assert messages("cloudwatch-log-group-retention", group(retentionInDays=365)) == []
    assert (
        messages("cloudwatch-log-group-retention", group(retentionInDays=30), {"minimum_days": 30})
        == []
    )


@pytest.mark.parametrize(
    ("inputs", "config", "message"),
    [
        (
            {},
            None,
            "Log group '/aws/eks/acme/cluster' never expires its events: set retentionInDays.",
        ),
        (
            {"retentionInDays": 0},
            None,
            "Log group '/aws/eks/acme/cluster' never expires its events: set retentionInDays.",
        ),
        (
            {"retentionInDays": 10},
            None,
            "Log group '/aws/eks/acme/cluster' retentionInDays 10 "
            "is not a period CloudWatch accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, "
            "400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653).",
        ),
        (
            {"retentionInDays": 7},
            {"minimum_days": 90},
            "Log group '/aws/eks/acme/cluster' keeps events 7 day(s), less than 90.",
        ),
        ({"retentionInDays": "[secret]"}, None, unseen(".retentionInDays")),
    ],
)
def test_log_group_without_retention(
    inputs: dict[str, Any], config: dict[str, Any] | None, message: str
) -> None:
    assert messages("cloudwatch-log-group-retention", group(**inputs), config) == [message]
