"""The one version table: config refuses what AWS would not create on the plan's date."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from plans import stack_values

from infra.base import versions
from infra.config import ConfigError, parse_config


def dev() -> dict[str, Any]:
    return copy.deepcopy(stack_values("dev")["config"]["mlops-platform:platform"])


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(versions.DATE_ENV, "2026-11-30")


def test_the_shipped_environments_use_versions_aws_creates_today() -> None:
    for env in ("dev", "staging", "prod"):
        parse_config(stack_values(env)["config"]["mlops-platform:platform"])


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ("cluster", "version"),
            "1.33",
            r"platform\.cluster\.version: EKS 1\.33 left standard support on 2026-07-29",
        ),
        (
            ("cluster", "version"),
            "1.99",
            r"platform\.cluster\.version: EKS 1\.99 is not in the version table",
        ),
        (
            ("databases", "mlflow", "engine_version"),
            "16.4",
            r"platform\.databases\.mlflow\.engine_version: postgres 16\.4 is retired",
        ),
        (
            ("databases", "mlflow", "engine_version"),
            "99.9",
            r"platform\.databases\.mlflow\.engine_version: postgres 99\.9 is not in the "
            r"version table; AWS creates 16\.11, 17\.7",
        ),
        (
            ("databases", "kfp", "engine_version"),
            "8.0.40",
            r"platform\.databases\.kfp\.engine_version: mysql 8\.0\.40 is retired",
        ),
        (
            ("online_store", "redis", "engine_version"),
            "5.0",
            r"platform\.online_store\.redis\.engine_version: redis 5\.0 is not in the version",
        ),
    ],
)
def test_a_version_aws_does_not_create_is_refused_with_its_field(
    path: tuple[str, ...], value: str, message: str
) -> None:
    raw = dev()
    node = raw
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    with pytest.raises(ConfigError, match=message):
        parse_config(raw)


def test_a_minor_without_an_autoscaler_release_is_refused() -> None:
    # EKS 1.34 is still in standard support on 2026-11-30, but the autoscaler the platform
    # installs is released per minor and the table has none for 1.34
    raw = dev()
    raw["cluster"]["version"] = "1.34"
    with pytest.raises(
        ConfigError,
        match=r"platform\.cluster\.version: the version table has no Cluster Autoscaler release "
        r"for Kubernetes 1\.34",
    ):
        parse_config(raw)


def test_a_version_leaves_standard_support_on_its_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(versions.table()["cluster_autoscaler"], "1.34", "v1.34.0")
    raw = dev()
    raw["cluster"]["version"] = "1.34"
    monkeypatch.setenv(versions.DATE_ENV, "2026-12-01")
    parse_config(raw)
    monkeypatch.setenv(versions.DATE_ENV, "2026-12-02")
    with pytest.raises(ConfigError, match=r"EKS 1\.34 left standard support on 2026-12-02"):
        parse_config(raw)


def test_a_stale_table_vouches_for_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(versions.DATE_ENV, str(versions.table()["as_of"] + dt.timedelta(days=181)))
    with pytest.raises(
        ConfigError,
        match=r"platform\.cluster\.version: the version table .* "
        r"refresh it",
    ):
        parse_config(dev())


def test_a_bad_plan_date_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(versions.DATE_ENV, "tomorrow")
    with pytest.raises(ValueError, match="MLOPS_PLAN_DATE='tomorrow' is not a date"):
        versions.plan_date()


def test_every_entry_of_the_table_is_dated_or_sourced() -> None:
    data = versions.table()
    for version, entry in data["eks"].items():
        assert entry["released"] < entry["standard_until"] < entry["extended_until"], version
    for engine in ("postgres", "mysql"):
        info = data["rds"][engine]
        assert all(isinstance(source, str) and source for source in info["creatable"].values())
        for version in info["creatable"]:
            assert any(version.startswith(f"{m}.") for m in info["majors"]), version
