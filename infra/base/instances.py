"""The one table of instance types the platform knows: the dated price table beside this
module (prices-us-east-1.yaml).

Config validation refuses an EC2 instance type, RDS instance class or ElastiCache node type
the table does not list, and cost (`mlops/cost.py`) prices from the same table and refuses
the same types: an unknown type is either one AWS does not offer (a typo AWS would refuse
at deploy time) or one the table lacks (add it with its list price), never a free resource.
"""

from __future__ import annotations

import difflib
import functools
import re
from pathlib import Path
from typing import Any, Literal

import yaml

TABLE = Path(__file__).with_name("prices-us-east-1.yaml")
TABLE_NAME = "infra/base/prices-us-east-1.yaml"

# AWS's instance naming: <family><generation><capabilities>.<size>; the capability `g` is a
# Graviton (arm64) processor (docs.aws.amazon.com/ec2/latest/instancetypes/
# instance-type-names.html).
# `a1` is the first Graviton generation and predates the convention.
_NAME = re.compile(r"^(?P<family>[a-z]+)(?P<generation>\d+)(?P<capabilities>[a-z-]*)\.")


@functools.cache
def table() -> dict[str, Any]:
    """The parsed table (read once per process: config validation and cost share it)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when it is there
    data: dict[str, Any] = yaml.load(TABLE.read_text(), Loader=loader)  # a safe loader
    return data


def architecture(instance_type: str) -> Literal["arm64", "x86_64"]:
    """The processor architecture of an EC2 instance type, from its name."""
    found = _NAME.match(instance_type)
    if found is None:
        return "x86_64"
    if found["family"] + found["generation"] == "a1" or "g" in found["capabilities"]:
        return "arm64"
    return "x86_64"


def _unknown(what: str, name: str, known: list[str]) -> str:
    near = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(near)}?)" if near else ""
    return (
        f"{what} {name!r} is not in the instance table {TABLE_NAME}{hint}: AWS does not "
        "offer it, or the table lacks it (add it with its list price)"
    )


def ec2_problem(instance_type: str) -> str | None:
    """Why the table does not vouch for ``instance_type``, or None."""
    known = sorted(table()["ec2_per_hour"])
    return None if instance_type in known else _unknown("EC2 instance type", instance_type, known)


def rds_problem(engine: str, instance_class: str) -> str | None:
    """Why the table does not vouch for ``instance_class`` running ``engine``, or None."""
    known = sorted(table()["rds_per_hour"].get(engine) or {})
    if instance_class in known:
        return None
    return _unknown(f"RDS {engine} instance class", instance_class, known)


def elasticache_problem(node_type: str) -> str | None:
    """Why the table does not vouch for the ElastiCache ``node_type``, or None."""
    known = sorted(table()["elasticache_per_hour"])
    return None if node_type in known else _unknown("ElastiCache node type", node_type, known)
