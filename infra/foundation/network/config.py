"""The ``network`` section: the VPC the platform creates (unused with a brought-in cluster)."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, model_validator

from infra.base.config import Cidr, FieldProblem, LogRetentionDays, Strict


class NetworkConfig(Strict):
    """VPC layout. Ignored (and must stay default) when the cluster is brought in.

    Attributes:
        cidr: VPC CIDR block (/16 to /20, private range).
        az_count: Availability zones to span.
        nat_gateways: ``single`` (cheap) or ``per_az`` (zone-independent egress).
        s3_gateway_endpoint: Route S3 traffic through a gateway endpoint.
        interface_endpoints: Interface endpoints (``ecr.api``, ``ecr.dkr``, ``sts``,
            ``logs``), reachable on 443 from inside the VPC only.
        flow_logs: Record all traffic to CloudWatch Logs.
        flow_logs_retention_days: Days flow logs are kept.
    """

    cidr: Cidr = "10.40.0.0/16"
    az_count: int = Field(default=2, ge=1, le=3)
    nat_gateways: Literal["single", "per_az"] = "single"
    s3_gateway_endpoint: bool = True
    interface_endpoints: list[Literal["ecr.api", "ecr.dkr", "sts", "logs"]] = Field(
        default_factory=list
    )
    flow_logs: bool = False
    flow_logs_retention_days: LogRetentionDays = 30

    @model_validator(mode="after")
    def _check(self) -> NetworkConfig:
        net = ipaddress.ip_network(self.cidr)
        if not 16 <= net.prefixlen <= 20:
            raise FieldProblem("cidr", f"prefix length must be /16 to /20, got /{net.prefixlen}")
        if not net.is_private:
            raise FieldProblem("cidr", f"{self.cidr} is not a private (RFC 1918) range")
        if len(set(self.interface_endpoints)) != len(self.interface_endpoints):
            raise FieldProblem("interface_endpoints", "lists an endpoint twice")
        return self
