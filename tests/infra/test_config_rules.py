"""The building blocks config validation applies: the instance table, Kubernetes
quantities, Prometheus durations and cron schedules (each against its consumer's rules)."""

from __future__ import annotations

import pytest

from infra.base import instances, units
from infra.base.schedule import cron_problem


@pytest.mark.parametrize(
    ("instance_type", "arch"),
    [
        ("m6g.large", "arm64"),
        ("m7g.2xlarge", "arm64"),
        ("c6gn.xlarge", "arm64"),
        ("x2gd.large", "arm64"),
        ("g5g.xlarge", "arm64"),
        ("a1.large", "arm64"),
        ("g5.xlarge", "x86_64"),
        ("g4dn.xlarge", "x86_64"),
        ("m6i.large", "x86_64"),
        ("m7i-flex.large", "x86_64"),
        ("t3.large", "x86_64"),
    ],
)
def test_architecture_follows_aws_instance_naming(instance_type: str, arch: str) -> None:
    assert instances.architecture(instance_type) == arch


def test_every_table_type_is_vouched_for_and_unknown_ones_are_not() -> None:
    table = instances.table()
    assert all(instances.ec2_problem(t) is None for t in table["ec2_per_hour"])
    assert all(instances.elasticache_problem(t) is None for t in table["elasticache_per_hour"])
    for engine, classes in table["rds_per_hour"].items():
        assert all(instances.rds_problem(engine, c) is None for c in classes)
    problem = instances.ec2_problem("m6i.larg")
    assert problem is not None and "did you mean m6i.large" in problem


@pytest.mark.parametrize(
    ("quantity", "millis"), [("250m", 250), ("1", 1000), ("1.5", 1500), ("0.001", 1)]
)
def test_cpu_quantities(quantity: str, millis: int) -> None:
    assert units.cpu_millis(quantity) == millis


@pytest.mark.parametrize(
    ("quantity", "why"),
    [
        ("0.0005", "finer than 1m"),
        ("1.5m", "finer than 1m"),
        ("9" * 20, "int64 millicores"),
        ("1e3", "not a CPU quantity"),
    ],
)
def test_cpu_quantities_kubernetes_refuses(quantity: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        units.cpu_millis(quantity)


def test_memory_quantities() -> None:
    assert units.memory_bytes("512Mi") == 512 * 2**20
    with pytest.raises(ValueError, match="int64 bytes"):
        units.memory_bytes("9999999999999Gi")
    with pytest.raises(ValueError, match="not a memory quantity"):
        units.memory_bytes("1G")


@pytest.mark.parametrize(
    ("duration", "seconds"), [("15d", 15 * 86400), ("2w", 14 * 86400), ("1d12h", 36 * 3600)]
)
def test_prometheus_durations(duration: str, seconds: int) -> None:
    assert units.prometheus_duration_nanos(duration) == seconds * 10**9


@pytest.mark.parametrize(
    ("duration", "why"),
    [("0d", "is zero"), ("0h0m", "is zero"), ("", "not a Prometheus duration"),
     ("300y", "beyond what Prometheus can hold"), ("12h1d", "not a Prometheus duration")],
)  # fmt: skip
def test_prometheus_durations_refused(duration: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        units.prometheus_duration_nanos(duration)


@pytest.mark.parametrize(
    "schedule",
    ["* * * * *", "@yearly", "0 0 1 1 *", "*/15 0-23/2 1,15 jan-DEC sun", "5/10 * * * *",
     "0 0 31 * *", "1, * * * *"],
)  # fmt: skip
def test_schedules_kubernetes_accepts(schedule: str) -> None:
    assert cron_problem(schedule) is None


@pytest.mark.parametrize(
    ("schedule", "why"),
    [
        ("0 0 31 2 1", None),  # both day fields restricted: either matches (robfig), Mondays
        ("0 0 31 2 */2", "never fires"),  # a `*` day of week: both must match, no Feb 31
        ("@HOURLY", "is not one of"),
        ("CRON_TZ=Europe/Paris 0 * * * *", "time zone"),
        (", * * * *", "selects no value"),
        ("1/0 * * * *", "not a positive number"),
        ("0 0 * foo *", "month 'foo' is not a number"),
    ],
)
def test_schedule_edge_cases(schedule: str, why: str | None) -> None:
    problem = cron_problem(schedule)
    if why is None:
        assert problem is None
    else:
        assert problem is not None and why in problem
