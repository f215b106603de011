"""The one table of versions AWS creates (versions.yaml beside this module).

Config validation refuses a version the table does not list or whose window has closed on
the plan's date; cost prices an EKS cluster past standard support at the extended rate.
The plan's date is today, or ``MLOPS_PLAN_DATE`` (``YYYY-MM-DD``), so a plan can be
reproduced for a given day.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from pathlib import Path
from typing import Any, Literal

from infra.base import yamlio

TABLE = Path(__file__).with_name("versions.yaml")
DATE_ENV = "MLOPS_PLAN_DATE"
# A table older than this no longer vouches for anything: refresh it (versions.yaml).
FRESH_FOR = dt.timedelta(days=180)

Support = Literal["standard", "extended"]


@functools.cache
def table() -> dict[str, Any]:
    data: dict[str, Any] = yamlio.load(TABLE.read_text())
    return data


def plan_date() -> dt.date:
    raw = os.environ.get(DATE_ENV, "").strip()
    if not raw:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{DATE_ENV}={raw!r} is not a date (YYYY-MM-DD)") from None


def stale(on: dt.date) -> str | None:
    """Why the table cannot vouch for versions on ``on``, or None."""
    as_of: dt.date = table()["as_of"]
    if on > as_of + FRESH_FOR:
        return (
            f"the version table infra/base/versions.yaml is from {as_of}, over "
            f"{FRESH_FOR.days} days before {on}: refresh it from its sources"
        )
    return None


def eks_support(version: str, on: dt.date) -> Support | None:
    """Which support an EKS cluster of ``version`` is under on ``on``; None: not created."""
    entry = table()["eks"].get(version)
    if entry is None or on < entry["released"] or on >= entry["extended_until"]:
        return None
    return "standard" if on < entry["standard_until"] else "extended"


def eks_problem(version: str, on: dt.date) -> str | None:
    """Why EKS would not run a new cluster of ``version`` under standard support."""
    if problem := stale(on):
        return problem
    known = table()["eks"]
    offered = (
        ", ".join(v for v in sorted(known, key=_key) if eks_support(v, on) == "standard")
        or "none in the table: refresh it"
    )
    entry = known.get(version)
    if entry is None:
        return f"EKS {version} is not in the version table (standard support: {offered})"
    if on < entry["released"]:
        return f"EKS {version} is released on {entry['released']}"
    if on >= entry["standard_until"]:
        return (
            f"EKS {version} left standard support on {entry['standard_until']} (extended "
            f"support is billed at 6x the control-plane rate); use one of {offered}"
        )
    if version not in table()["cluster_autoscaler"]:
        return (
            f"the version table has no Cluster Autoscaler release for Kubernetes {version} "
            f"(it supports only its own minor; releases for: "
            f"{', '.join(sorted(table()['cluster_autoscaler'], key=_key))})"
        )
    return None


def cluster_autoscaler_tag(version: str) -> str:
    """The Cluster Autoscaler image tag released for Kubernetes ``version``."""
    tag: str = table()["cluster_autoscaler"][version]
    return tag


def engine_problem(
    service: Literal["rds", "elasticache"], engine: str, version: str, on: dt.date
) -> str | None:
    """Why ``service`` would not create ``engine`` ``version`` under standard support."""
    if problem := stale(on):
        return problem
    engines = table()[service]
    if engine not in engines:
        return f"{engine} is not an engine of the version table"
    info = engines[engine]
    creatable = info.get("creatable", info) if service == "rds" else info
    offered = ", ".join(sorted(creatable, key=_key))
    if version in info.get("retired", {}):
        return f"{engine} {version} is retired ({info['retired'][version]}); AWS creates {offered}"
    if version not in creatable:
        return f"{engine} {version} is not in the version table; AWS creates {offered}"
    if service == "rds":
        major = next((m for m in info["majors"] if version.startswith(f"{m}.")), None)
        until = info["majors"][major]["standard_until"] if major else None
        if until is not None and on >= until:
            return (
                f"{engine} {major} left RDS standard support on {until} (billed Extended Support)"
            )
    return None


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
