"""Network: the VPC the cluster, databases and cache live in.

One public and one private subnet per zone; nodes, databases and the cache are
only ever placed in the private ones. Egress goes through NAT (one gateway, or
one per zone so a zone outage does not cut the others off). S3 traffic stays on
the AWS network through a gateway endpoint; interface endpoints (ECR, STS, logs)
keep image pulls and token exchange private where enabled. Flow logs go to a
KMS-encrypted CloudWatch log group.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.base.aws import log_key_policy
from infra.foundation.network.config import NetworkConfig


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    """Inputs of a Network.

    Attributes:
        config: The stack's ``network`` section (CIDR, NAT, endpoints, flow logs).
        name: Name used for tags and log groups (``<prefix>-<env>``).
        zones: Availability zones to span (at least 2).
        account_id: AWS account (for the log key's policy).
        region: AWS region.
        partition: AWS partition.
        cluster_name: EKS cluster name, for the subnet discovery tags.
        tags: Tags for every taggable child.
    """

    config: NetworkConfig
    name: str
    zones: Sequence[str]
    account_id: str
    region: str
    partition: str = "aws"
    cluster_name: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.zones) < 2:
            raise ValueError("a Network needs at least 2 availability zones")
        if len(set(self.zones)) != len(self.zones):
            raise ValueError("zones must be distinct")
        if len(self.zones) > 3:
            raise ValueError("at most 3 zones fit the subnet layout (3 private quarters)")

    def subnet_cidrs(self) -> tuple[list[str], list[str]]:
        """(public, private) CIDRs: private subnets get the big blocks (pods use VPC IPs)."""
        vpc = ipaddress.IPv4Network(self.config.cidr)
        # private: /(p+2) blocks from the start; public: /(p+6) blocks from the last quarter
        private = list(vpc.subnets(prefixlen_diff=2))[: len(self.zones)]
        last_quarter = list(vpc.subnets(prefixlen_diff=2))[3]
        public = list(last_quarter.subnets(prefixlen_diff=4))[: len(self.zones)]
        return [str(n) for n in public], [str(n) for n in private]


class Network(pulumi.ComponentResource):
    """VPC with public/private subnets per zone, NAT, endpoints and flow logs.

    Outputs:
        vpc_id: ID of the VPC.
        private_subnet_ids: Private subnets, one per zone (nodes, databases, cache).
        public_subnet_ids: Public subnets, one per zone (load balancers, NAT).
    """

    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    public_subnet_ids: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        public_cidrs, private_cidrs = args.subnet_cidrs()
        cluster_tag = (
            {f"kubernetes.io/cluster/{args.cluster_name}": "shared"} if args.cluster_name else {}
        )

        self.vpc = aws.ec2.Vpc(
            name,
            cidr_block=args.config.cidr,
            enable_dns_hostnames=True,  # required for private EKS endpoints and interface endpoints
            enable_dns_support=True,
            # the load balancer controller may create security groups only in a VPC
            # tagged as this cluster's (infra/foundation/cluster/addons.py)
            tags={**tags, **cluster_tag, "Name": args.name},
            opts=child,
        )
        # The default security group allows all traffic between its members: empty it.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=self.vpc.id, tags={**tags, "Name": "unused"}, opts=child
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=self.vpc.id, tags={**tags, "Name": args.name}, opts=child
        )

        public, private = [], []
        for zone, pub_cidr, priv_cidr in zip(args.zones, public_cidrs, private_cidrs, strict=True):
            public.append(
                aws.ec2.Subnet(
                    f"{name}-public-{zone}",
                    vpc_id=self.vpc.id,
                    cidr_block=pub_cidr,
                    availability_zone=zone,
                    map_public_ip_on_launch=False,  # nothing here needs a public IP but NAT's EIP
                    tags={
                        **tags,
                        **cluster_tag,
                        "Name": f"{args.name}-public-{zone}",
                        "kubernetes.io/role/elb": "1",
                    },
                    opts=child,
                )
            )
            private.append(
                aws.ec2.Subnet(
                    f"{name}-private-{zone}",
                    vpc_id=self.vpc.id,
                    cidr_block=priv_cidr,
                    availability_zone=zone,
                    map_public_ip_on_launch=False,
                    tags={
                        **tags,
                        **cluster_tag,
                        "Name": f"{args.name}-private-{zone}",
                        "kubernetes.io/role/internal-elb": "1",
                    },
                    opts=child,
                )
            )

        public_rt = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=self.vpc.id,
            tags={**tags, "Name": f"{args.name}-public"},
            opts=child,
        )
        aws.ec2.Route(
            f"{name}-public-internet",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )
        for zone, subnet in zip(args.zones, public, strict=True):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone}",
                subnet_id=subnet.id,
                route_table_id=public_rt.id,
                opts=child,
            )

        nat_zones = list(args.zones) if args.config.nat_gateways == "per_az" else [args.zones[0]]
        nats: dict[str, aws.ec2.NatGateway] = {}
        for zone in nat_zones:
            eip = aws.ec2.Eip(
                f"{name}-nat-{zone}",
                domain="vpc",
                tags={**tags, "Name": f"{args.name}-nat-{zone}"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            )
            nats[zone] = aws.ec2.NatGateway(
                f"{name}-nat-{zone}",
                allocation_id=eip.allocation_id,
                subnet_id=public[list(args.zones).index(zone)].id,
                connectivity_type="public",
                tags={**tags, "Name": f"{args.name}-nat-{zone}"},
                opts=child,
            )

        private_rts = []
        for zone, subnet in zip(args.zones, private, strict=True):
            rt = aws.ec2.RouteTable(
                f"{name}-private-{zone}",
                vpc_id=self.vpc.id,
                tags={**tags, "Name": f"{args.name}-private-{zone}"},
                opts=child,
            )
            nat = nats.get(zone, nats[nat_zones[0]])
            aws.ec2.Route(
                f"{name}-private-{zone}-nat",
                route_table_id=rt.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}", subnet_id=subnet.id, route_table_id=rt.id, opts=child
            )
            private_rts.append(rt)

        if args.config.s3_gateway_endpoint:
            aws.ec2.VpcEndpoint(
                f"{name}-s3",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{args.region}.s3",
                vpc_endpoint_type="Gateway",
                route_table_ids=[rt.id for rt in private_rts],
                tags={**tags, "Name": f"{args.name}-s3"},
                opts=child,
            )
        if args.config.interface_endpoints:
            endpoint_sg = aws.ec2.SecurityGroup(
                f"{name}-endpoints",
                vpc_id=self.vpc.id,
                description="HTTPS from inside the VPC to interface endpoints",
                tags={**tags, "Name": f"{args.name}-endpoints"},
                opts=child,
            )
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-endpoints-https",
                security_group_id=endpoint_sg.id,
                cidr_ipv4=args.config.cidr,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                description="HTTPS from the VPC",
                opts=child,
            )
            for service in args.config.interface_endpoints:
                aws.ec2.VpcEndpoint(
                    f"{name}-{service.replace('.', '-')}",
                    vpc_id=self.vpc.id,
                    service_name=f"com.amazonaws.{args.region}.{service}",
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    subnet_ids=[s.id for s in private],
                    security_group_ids=[endpoint_sg.id],
                    tags={**tags, "Name": f"{args.name}-{service}"},
                    opts=child,
                )

        if args.config.flow_logs:
            self._flow_logs(name, args, tags)

        self.vpc_id = self.vpc.id
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private])
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public])
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_ids": self.public_subnet_ids,
            }
        )

    def _flow_logs(self, name: str, args: NetworkArgs, tags: dict[str, str]) -> None:
        child = pulumi.ResourceOptions(parent=self)
        group_name = f"/aws/vpc/{args.name}/flow-logs"
        group_arn = (
            f"arn:{args.partition}:logs:{args.region}:{args.account_id}:log-group:{group_name}"
        )
        key = aws.kms.Key(
            f"{name}-flow-logs-key",
            description=f"Encrypts VPC flow logs of {args.name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=log_key_policy(
                sid="CloudWatchLogsEncrypts",
                account_id=args.account_id,
                region=args.region,
                partition=args.partition,
                log_group_arn=group_arn,
            ),
            tags=tags,
            opts=child,
        )
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=group_name,
            retention_in_days=args.config.flow_logs_retention_days,
            kms_key_id=key.arn,
            tags=tags,
            opts=child,
        )
        role_name = f"{args.name}-vpc-flow-logs"
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}},
                }
            ],
        }
        role = aws.iam.Role(
            f"{name}-flow-logs",
            name=role_name,
            assume_role_policy=json.dumps(trust, sort_keys=True),
            tags=tags,
            opts=child,
        )
        write = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "WriteFlowLogs",
                    "Effect": "Allow",
                    "Action": [
                        "logs:CreateLogStream",
                        "logs:DescribeLogStreams",
                        "logs:PutLogEvents",
                    ],
                    "Resource": [group_arn, f"{group_arn}:*"],
                }
            ],
        }
        policy = aws.iam.RolePolicy(
            f"{name}-flow-logs",
            name="write-flow-logs",
            role=role.name,
            policy=json.dumps(write, sort_keys=True),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
