"""The CrossGuard pack: `pulumi preview --policy-pack policies [--policy-pack-config FILE]`.

Only this file builds the PolicyPack, because constructing it starts the analyzer's
gRPC server and blocks; the rules live in importable modules under ``rules/``.
"""

from pulumi_policy import EnforcementLevel, PolicyPack
from rules import ALL_POLICIES

PolicyPack(
    name="mlops-platform-governance",
    policies=ALL_POLICIES,
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Governance of the MLOps platform: storage, identity, databases, network, "
    "cluster, workloads, serving, ML governance and tagging.",
    display_name="MLOps platform governance",
    provider="aws",
    tags=["aws", "kubernetes", "kserve", "mlops"],
)
