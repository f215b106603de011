"""Small Pulumi programs on disk, planned like `mlops policy check --program` plans one."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops.engine.plan import plan_program
from mlops.errors import PlanError

# a Kubernetes provider the program's objects name (no cluster is ever reached)
HEAD = """
import pulumi
import pulumi_kubernetes as k8s

k8s_opts = pulumi.ResourceOptions(provider=k8s.Provider("k8s", kubeconfig="{}"))
"""
UPSTREAM = "https://github.com/acme/app/manifests/base?ref=1.2.0"


def refusal(root: Path) -> str:
    """The one-line refusal planning ``root`` ends with."""
    with pytest.raises(PlanError) as err:
        plan_program(root)
    return str(err.value)
