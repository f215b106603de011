"""The ``network`` section: the VPC the platform creates (unused with a brought-in cluster)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import Field, model_validator

from infra.base.config import Cidr, FieldProblem, LogRetentionDays, Strict

# Zone ids where EKS cannot place a cluster's control-plane network interfaces: CreateCluster
# fails with UnsupportedAvailabilityZoneException for a subnet in one of them. Source: Amazon
# EKS User Guide, "VPC and subnet requirements", subnet requirements for clusters
# (https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html), as of 2026-11.
EKS_UNSUPPORTED_ZONE_IDS = ("use1-az3", "usw1-az2", "cac1-az3")
EKS_ZONES_SOURCE = "Amazon EKS User Guide, network-reqs.html (subnet requirements), 2026-11"


ZoneId = Annotated[str, Field(pattern=r"^[a-z]{2,5}[0-9]+-az[0-9]+$")]


class NetworkConfig(Strict):
    """VPC layout. Ignored (and must stay default) when the cluster is brought in.

    Attributes:
        cidr: VPC CIDR block (/16 to /20, private range).
        az_count: Availability zones to span.
        availability_zone_ids: The zones to span, by zone id (``use1-az1``: ids name the
            same zone in every account, zone names do not); their number is ``az_count``.
            Unset: the first ``az_count`` available zones of the region that EKS supports.
        exclude_zone_ids: Zone ids never to pick when ``availability_zone_ids`` is unset
            (on top of those EKS does not support, which are always skipped).
        nat_gateways: ``single`` (cheap) or ``per_az`` (zone-independent egress).
        s3_gateway_endpoint: Route S3 traffic through a gateway endpoint.
        interface_endpoints: Interface endpoints (``ecr.api``, ``ecr.dkr``, ``sts``,
            ``logs``), reachable on 443 from inside the VPC only.
        flow_logs: Record all traffic to CloudWatch Logs.
        flow_logs_retention_days: Days flow logs are kept.
    """

    cidr: Cidr = "10.40.0.0/16"
    az_count: int = Field(default=2, ge=1, le=3)
    availability_zone_ids: list[ZoneId] | None = None
    exclude_zone_ids: list[ZoneId] = Field(default_factory=list)
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
        if self.availability_zone_ids is not None:
            ids = self.availability_zone_ids
            for i, zone in enumerate(ids):
                if zone in EKS_UNSUPPORTED_ZONE_IDS:
                    raise FieldProblem(
                        f"availability_zone_ids.{i}",
                        f"{zone!r} is a zone where EKS cannot place a cluster "
                        f"(UnsupportedAvailabilityZoneException; {EKS_ZONES_SOURCE})",
                    )
            if len(set(ids)) != len(ids):
                raise FieldProblem("availability_zone_ids", "names a zone twice")
            if len(ids) != self.az_count:
                raise FieldProblem(
                    "availability_zone_ids",
                    f"names {len(ids)} zone(s) but az_count is {self.az_count}",
                )
            if self.exclude_zone_ids:
                raise FieldProblem(
                    "exclude_zone_ids", "only applies when availability_zone_ids is unset"
                )
        return self

    def pick_zones(self, names: Sequence[str], zone_ids: Sequence[str]) -> list[str]:
        """The zone names to span, from the region's available zones (``names`` and their
        ``zone_ids``, as ``ec2:DescribeAvailabilityZones`` lists them)."""
        by_id = dict(zip(zone_ids, names, strict=True))
        if self.availability_zone_ids is not None:
            missing = [z for z in self.availability_zone_ids if z not in by_id]
            if missing:
                raise FieldProblem(
                    "availability_zone_ids",
                    f"{', '.join(missing)} is not an available zone of the region "
                    f"(available: {', '.join(zone_ids)})",
                )
            return [by_id[z] for z in self.availability_zone_ids]
        skipped = {*EKS_UNSUPPORTED_ZONE_IDS, *self.exclude_zone_ids}
        usable = [name for zone, name in zip(zone_ids, names, strict=True) if zone not in skipped]
        if len(usable) < self.az_count:
            raise FieldProblem(
                "az_count",
                f"{self.az_count} zones wanted, the region has {len(usable)} that EKS supports "
                f"and are not excluded ({', '.join(usable) or 'none'})",
            )
        return usable[: self.az_count]
