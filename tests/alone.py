"""Build one component alone under the plan engine's mocks (moto too, when asked).

A component test passes a function that creates the component (and whatever it needs
that the platform would otherwise wire in) with the options it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from mlops.engine.aws_backend import Backend
from mlops.engine.plan import plan_function

REGION = "us-east-1"
ACCOUNT = "123456789012"
KUBECONFIG = '{"apiVersion": "v1", "kind": "Config", "clusters": [], "contexts": [], "users": []}'


@dataclass
class Built:
    plan: dict[str, Any]
    aws: dict[str, Any] = field(default_factory=dict)  # what the inspect function read

    @property
    def resources(self) -> list[dict[str, Any]]:
        return list(self.plan["resources"])

    def of_type(self, typ: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == typ]

    def one(self, typ: str, name: str | None = None) -> dict[str, Any]:
        found = [r for r in self.of_type(typ) if name is None or r["name"] == name]
        assert len(found) == 1, f"{typ} {name}: {len(found)} found"
        return found[0]

    def inputs(self, typ: str, name: str | None = None) -> dict[str, Any]:
        return dict(self.one(typ, name)["inputs"])

    def state(self, typ: str, name: str | None = None) -> dict[str, Any]:
        return dict(self.plan["_states"][self.one(typ, name)["urn"]])

    def assert_parented(self, component_type: str, *prerequisites: str) -> None:
        """Every resource descends from the component (or from a prerequisite component
        of the given types the test built first); providers aside."""
        roots = {r["urn"] for t in (component_type, *prerequisites) for r in self.of_type(t)}
        assert self.of_type(component_type), f"no {component_type}"
        by_urn = {r["urn"]: r for r in self.resources}
        for r in self.resources:
            if r["urn"] in roots or r["type"].startswith("pulumi:providers:"):
                continue
            parent = r["parent"]
            while parent in by_urn and parent not in roots:
                parent = by_urn[parent]["parent"]
            assert parent in roots, f"{r['type']} {r['name']} is not a child of a component"


def build(
    make: Callable[[pulumi.ResourceOptions], Any],
    *,
    kubernetes: bool = False,
    inspect: Callable[[Backend], dict[str, Any]] | None = None,
    config: dict[str, Any] | None = None,
) -> Built:
    """Plan ``make(opts)`` alone; ``opts`` carries an AWS provider (or a Kubernetes one)."""
    held: dict[str, Any] = {}

    def program() -> None:
        if kubernetes:
            provider: pulumi.ProviderResource = k8s.Provider("k8s", kubeconfig=KUBECONFIG)
        else:
            provider = aws.Provider("aws", region=REGION)
        make(pulumi.ResourceOptions(provider=provider))

    def look(backend: Backend) -> None:
        assert inspect is not None
        held.update(inspect(backend))

    plan = plan_function(program, config=config, inspect=look if inspect else None)
    return Built(plan, held)


def private_network(opts: pulumi.ResourceOptions) -> tuple[Any, Any, Any]:
    """(vpc id, private subnet ids, a client security group id): what a data store needs
    from the foundation, built as the platform builds it."""
    from infra.foundation.network.component import Network, NetworkArgs
    from infra.foundation.network.config import NetworkConfig

    net = Network(
        "network",
        NetworkArgs(
            config=NetworkConfig(),
            name="t",
            zones=["us-east-1a", "us-east-1b"],
            account_id=ACCOUNT,
            region=REGION,
        ),
        opts=opts,
    )
    clients = aws.ec2.SecurityGroup(
        "clients",
        vpc_id=net.vpc_id,
        description="cluster nodes",
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(parent=net)),
    )
    return net.vpc_id, net.private_subnet_ids, clients.id
