"""Logs: CloudWatch log groups expire their events.

A log group without ``retentionInDays`` (or with 0) keeps every event forever: cost grows
without bound and data outlives any retention promise. CloudWatch accepts only a fixed set
of retention periods, so any other value is refused as AWS would refuse it.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Policy, ReportViolation

from .common import as_int, config, resource_policy

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
# PutRetentionPolicy's allowed values (CloudWatch Logs API reference)
RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def _check_retention(args: Any, report: ReportViolation) -> None:
    raw = args.props.get("retentionInDays")
    minimum = as_int(config(args, "minimum_days", 1)) or 1
    name = args.props.get("name") or args.name
    if raw is None or as_int(raw) == 0:
        report(f"Log group '{name}' never expires its events: set retentionInDays.", None)
        return
    days = as_int(raw)
    if days is None:
        report(f"Log group '{name}' retentionInDays {raw!r} is not a number the plan shows.", None)
    elif days not in RETENTION_DAYS:
        report(
            f"Log group '{name}' retentionInDays {days} is not a period CloudWatch accepts "
            f"({', '.join(map(str, RETENTION_DAYS))}).",
            None,
        )
    elif days < minimum:
        report(f"Log group '{name}' keeps events {days} day(s), less than {minimum}.", None)


POLICIES: list[Policy] = [
    resource_policy(
        "cloudwatch-log-group-retention",
        "CloudWatch log groups expire their events after a retention period CloudWatch "
        "accepts (at least minimum_days).",
        (LOG_GROUP,),
        _check_retention,
        schema={"minimum_days": {"type": "integer", "minimum": 1, "default": 1}},
        remediation="Set retention_in_days (e.g. 365 for audit logs, 30 for debug logs).",
    ),
]
