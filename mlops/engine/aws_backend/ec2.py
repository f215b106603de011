"""EC2 and VPC: network, security groups, launch templates, flow logs."""

from __future__ import annotations

import re
from typing import Any

from mlops.engine.aws_backend.dispatch import (
    AwsRejected,
    Backend,
    adopts,
    handles,
    tags,
)


def _tag_spec(kind: str, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    found = tags(inputs)
    return [{"ResourceType": kind, "Tags": found}] if found else []


@handles("aws:ec2/vpc:Vpc")
def _vpc(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    ec2 = b.client("ec2")
    vpc = ec2.create_vpc(CidrBlock=inputs["cidrBlock"], TagSpecifications=_tag_spec("vpc", inputs))[
        "Vpc"
    ]
    b.alias(state["id"], vpc["VpcId"])
    for attribute in ("enableDnsSupport", "enableDnsHostnames"):
        if attribute in inputs:
            key = attribute[0].upper() + attribute[1:]
            ec2.modify_vpc_attribute(
                VpcId=vpc["VpcId"], **{key: {"Value": bool(inputs[attribute])}}
            )
    groups = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc["VpcId"]]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"]
    if groups:
        b.alias(state["defaultSecurityGroupId"], groups[0]["GroupId"])


@handles("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
def _default_sg(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    """Adopt the VPC's default group and leave it with exactly the declared rules."""
    ec2 = b.client("ec2")
    groups = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [inputs["vpcId"]]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"]
    if not groups:
        raise AwsRejected(f"InvalidVpcID.NotFound: {inputs['vpcId']!r} has no default group")
    group = groups[0]
    b.alias(state["id"], group["GroupId"])
    if group.get("IpPermissions") and not inputs.get("ingress"):
        ec2.revoke_security_group_ingress(
            GroupId=group["GroupId"], IpPermissions=group["IpPermissions"]
        )
    if group.get("IpPermissionsEgress") and not inputs.get("egress"):
        ec2.revoke_security_group_egress(
            GroupId=group["GroupId"], IpPermissions=group["IpPermissionsEgress"]
        )


@handles("aws:ec2/subnet:Subnet")
def _subnet(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {
        "VpcId": inputs["vpcId"],
        "CidrBlock": inputs["cidrBlock"],
        "TagSpecifications": _tag_spec("subnet", inputs),
    }
    if inputs.get("availabilityZone"):
        kwargs["AvailabilityZone"] = inputs["availabilityZone"]
    subnet = b.client("ec2").create_subnet(**kwargs)["Subnet"]
    b.alias(state["id"], subnet["SubnetId"])


@handles("aws:ec2/internetGateway:InternetGateway")
def _igw(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    ec2 = b.client("ec2")
    igw = ec2.create_internet_gateway(TagSpecifications=_tag_spec("internet-gateway", inputs))
    igw_id = igw["InternetGateway"]["InternetGatewayId"]
    b.alias(state["id"], igw_id)
    if inputs.get("vpcId"):
        ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=inputs["vpcId"])


@handles("aws:ec2/routeTable:RouteTable")
def _route_table(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    table = b.client("ec2").create_route_table(
        VpcId=inputs["vpcId"], TagSpecifications=_tag_spec("route-table", inputs)
    )["RouteTable"]
    b.alias(state["id"], table["RouteTableId"])


_ROUTE_TARGETS = {
    "gatewayId": "GatewayId",
    "natGatewayId": "NatGatewayId",
    "vpcEndpointId": "VpcEndpointId",
    "networkInterfaceId": "NetworkInterfaceId",
    "transitGatewayId": "TransitGatewayId",
    "vpcPeeringConnectionId": "VpcPeeringConnectionId",
}


@handles("aws:ec2/route:Route")
def _route(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    targets = {api: inputs[ours] for ours, api in _ROUTE_TARGETS.items() if inputs.get(ours)}
    if len(targets) != 1:
        raise AwsRejected(
            f"InvalidParameterCombination: a route needs exactly one target, got {sorted(targets)}"
        )
    ec2 = b.client("ec2")
    if "NatGatewayId" in targets:
        # moto accepts any NAT id; AWS needs an existing gateway
        found = ec2.describe_nat_gateways(NatGatewayIds=[targets["NatGatewayId"]])["NatGateways"]
        if not found:
            raise AwsRejected(f"InvalidNatGatewayID.NotFound: {targets['NatGatewayId']!r}")
    ec2.create_route(
        RouteTableId=inputs["routeTableId"],
        DestinationCidrBlock=inputs["destinationCidrBlock"],
        **targets,
    )


@handles("aws:ec2/routeTableAssociation:RouteTableAssociation")
def _rt_association(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    assoc = b.client("ec2").associate_route_table(
        RouteTableId=inputs["routeTableId"], SubnetId=inputs["subnetId"]
    )
    b.alias(state["id"], assoc["AssociationId"])


@handles("aws:ec2/eip:Eip")
def _eip(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    if inputs.get("domain", "vpc") != "vpc":
        raise AwsRejected(f"InvalidParameterValue: EIP domain {inputs.get('domain')!r}")
    eip = b.client("ec2").allocate_address(
        Domain="vpc", TagSpecifications=_tag_spec("elastic-ip", inputs)
    )
    b.alias(state["allocationId"], eip["AllocationId"])


@handles("aws:ec2/natGateway:NatGateway")
def _nat(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    connectivity = inputs.get("connectivityType", "public")
    kwargs: dict[str, Any] = {
        "SubnetId": inputs["subnetId"],
        "ConnectivityType": connectivity,
        "TagSpecifications": _tag_spec("natgateway", inputs),
    }
    if connectivity == "public":
        if not inputs.get("allocationId"):
            raise AwsRejected("MissingParameter: a public NAT gateway needs an allocation ID")
        kwargs["AllocationId"] = inputs["allocationId"]
    nat = b.client("ec2").create_nat_gateway(**kwargs)["NatGateway"]
    b.alias(state["id"], nat["NatGatewayId"])


@handles("aws:ec2/vpcEndpoint:VpcEndpoint")
def _vpc_endpoint(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    kind = inputs.get("vpcEndpointType", "Gateway")
    service = inputs["serviceName"]
    if not re.match(rf"^com\.amazonaws\.{re.escape(b.ctx.region)}\.[a-z0-9.-]+$", service):
        raise AwsRejected(f"InvalidServiceName: {service!r} is not a service of {b.ctx.region}")
    if kind == "Gateway" and service.rsplit(".", 1)[-1] not in ("s3", "dynamodb"):
        raise AwsRejected(f"InvalidParameter: {service!r} has no gateway endpoint")
    if kind == "Interface" and not inputs.get("subnetIds"):
        raise AwsRejected("InvalidParameter: an interface endpoint needs subnets")
    kwargs: dict[str, Any] = {
        "VpcId": inputs["vpcId"],
        "ServiceName": service,
        "VpcEndpointType": kind,
        "TagSpecifications": _tag_spec("vpc-endpoint", inputs),
    }
    for ours, api in (
        ("routeTableIds", "RouteTableIds"),
        ("subnetIds", "SubnetIds"),
        ("securityGroupIds", "SecurityGroupIds"),
    ):
        if inputs.get(ours):
            kwargs[api] = inputs[ours]
    if "privateDnsEnabled" in inputs and kind == "Interface":
        kwargs["PrivateDnsEnabled"] = bool(inputs["privateDnsEnabled"])
    endpoint = b.client("ec2").create_vpc_endpoint(**kwargs)["VpcEndpoint"]
    b.alias(state["id"], endpoint["VpcEndpointId"])


@handles("aws:ec2/securityGroup:SecurityGroup")
def _security_group(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    ec2 = b.client("ec2")
    kwargs: dict[str, Any] = {
        "GroupName": state["name"],
        "Description": inputs.get("description") or "Managed by Pulumi",
        "TagSpecifications": _tag_spec("security-group", inputs),
    }
    if inputs.get("vpcId"):
        kwargs["VpcId"] = inputs["vpcId"]
    group_id = ec2.create_security_group(**kwargs)["GroupId"]
    b.alias(state["id"], group_id)
    if not inputs.get("egress"):
        # the provider removes AWS's default allow-all egress when none is declared
        group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
        if group.get("IpPermissionsEgress"):
            ec2.revoke_security_group_egress(
                GroupId=group_id, IpPermissions=group["IpPermissionsEgress"]
            )


def _permission(inputs: dict[str, Any]) -> dict[str, Any]:
    protocol = str(inputs.get("ipProtocol", ""))
    perm: dict[str, Any] = {"IpProtocol": protocol}
    if protocol != "-1":
        if inputs.get("fromPort") is None or inputs.get("toPort") is None:
            raise AwsRejected(f"MissingParameter: protocol {protocol!r} needs from/to ports")
        perm["FromPort"], perm["ToPort"] = int(inputs["fromPort"]), int(inputs["toPort"])
    sources = [
        k
        for k in ("cidrIpv4", "cidrIpv6", "referencedSecurityGroupId", "prefixListId")
        if inputs.get(k)
    ]
    if len(sources) != 1:
        raise AwsRejected(f"InvalidParameterCombination: one source needed, got {sources}")
    extra = {"Description": inputs["description"]} if inputs.get("description") else {}
    if inputs.get("cidrIpv4"):
        perm["IpRanges"] = [{"CidrIp": inputs["cidrIpv4"], **extra}]
    elif inputs.get("cidrIpv6"):
        perm["Ipv6Ranges"] = [{"CidrIpv6": inputs["cidrIpv6"], **extra}]
    elif inputs.get("referencedSecurityGroupId"):
        perm["UserIdGroupPairs"] = [{"GroupId": inputs["referencedSecurityGroupId"], **extra}]
    else:
        perm["PrefixListIds"] = [{"PrefixListId": inputs["prefixListId"], **extra}]
    return perm


@handles("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
def _ingress(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    ec2 = b.client("ec2")
    perm = _permission(inputs)
    for pair in perm.get("UserIdGroupPairs", []):
        ec2.describe_security_groups(GroupIds=[pair["GroupId"]])  # AWS: InvalidGroup.NotFound
    result = ec2.authorize_security_group_ingress(
        GroupId=inputs["securityGroupId"], IpPermissions=[perm]
    )
    rules = result.get("SecurityGroupRules") or []
    if rules:
        b.alias(state["id"], rules[0]["SecurityGroupRuleId"])


@handles("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
def _egress(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    b.client("ec2").authorize_security_group_egress(
        GroupId=inputs["securityGroupId"], IpPermissions=[_permission(inputs)]
    )


def _flag(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if value not in ("true", "false"):
            raise AwsRejected(f"InvalidParameterValue: {value!r} is not true or false")
        return value == "true"
    return bool(value)


def _launch_template_data(inputs: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    meta = inputs.get("metadataOptions")
    if meta:
        tokens = meta.get("httpTokens")
        if tokens not in (None, "optional", "required"):
            raise AwsRejected(f"InvalidParameterValue: httpTokens {tokens!r}")
        hops = meta.get("httpPutResponseHopLimit")
        if hops is not None and not 1 <= int(hops) <= 64:
            raise AwsRejected(f"InvalidParameterValue: hop limit {hops} is not 1..64")
        data["MetadataOptions"] = {
            k: v
            for k, v in {
                "HttpTokens": tokens,
                "HttpPutResponseHopLimit": int(hops) if hops is not None else None,
                "HttpEndpoint": meta.get("httpEndpoint"),
            }.items()
            if v is not None
        }
    mappings = []
    for m in inputs.get("blockDeviceMappings") or []:
        ebs = m.get("ebs") or {}
        volume_type = ebs.get("volumeType")
        if volume_type and volume_type not in (
            "gp2",
            "gp3",
            "io1",
            "io2",
            "st1",
            "sc1",
            "standard",
        ):
            raise AwsRejected(f"InvalidParameterValue: volume type {volume_type!r}")
        mappings.append(
            {
                "DeviceName": m.get("deviceName"),
                "Ebs": {
                    k: v
                    for k, v in {
                        "VolumeSize": int(ebs["volumeSize"]) if ebs.get("volumeSize") else None,
                        "VolumeType": volume_type,
                        # the provider takes these as "true"/"false" strings
                        "Encrypted": _flag(ebs.get("encrypted")),
                        "DeleteOnTermination": _flag(ebs.get("deleteOnTermination")),
                    }.items()
                    if v is not None
                },
            }
        )
    if mappings:
        data["BlockDeviceMappings"] = mappings
    return data


@handles("aws:ec2/launchTemplate:LaunchTemplate")
def _launch_template(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    template_name = inputs.get("name") or state["id"]
    template = b.client("ec2").create_launch_template(
        LaunchTemplateName=template_name, LaunchTemplateData=_launch_template_data(inputs)
    )["LaunchTemplate"]
    b.alias(state["id"], template["LaunchTemplateId"])


@handles("aws:ec2/flowLog:FlowLog")
def _flow_log(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    resource = next(
        (
            (kind, inputs[key])
            for key, kind in (
                ("vpcId", "VPC"),
                ("subnetId", "Subnet"),
                ("eniId", "NetworkInterface"),
            )
            if inputs.get(key)
        ),
        None,
    )
    if resource is None:
        raise AwsRejected("MissingParameter: a flow log needs a VPC, subnet or ENI")
    destination_type = inputs.get("logDestinationType", "cloud-watch-logs")
    interval = int(inputs.get("maxAggregationInterval") or 600)
    if interval not in (60, 600):
        raise AwsRejected(f"InvalidParameter: max aggregation interval {interval} is not 60/600")
    kwargs: dict[str, Any] = {
        "ResourceIds": [resource[1]],
        "ResourceType": resource[0],
        "TrafficType": inputs.get("trafficType", "ALL"),
        "LogDestinationType": destination_type,
        "LogDestination": inputs["logDestination"],
        "MaxAggregationInterval": interval,
    }
    if destination_type == "cloud-watch-logs":
        if not inputs.get("iamRoleArn"):
            raise AwsRejected("InvalidParameter: CloudWatch Logs delivery needs iamRoleArn")
        kwargs["DeliverLogsPermissionArn"] = inputs["iamRoleArn"]
        # moto checks the group only when named (AWS takes either form): name it
        group = str(inputs["logDestination"]).split(":log-group:", 1)
        if len(group) == 2:
            del kwargs["LogDestination"]
            kwargs["LogGroupName"] = group[1].removesuffix(":*")
    result = b.client("ec2").create_flow_logs(**kwargs)
    if result.get("Unsuccessful"):
        error = result["Unsuccessful"][0]["Error"]
        raise AwsRejected(f"{error['Code']}: {error['Message']}")
    b.alias(state["id"], result["FlowLogIds"][0])


def _existing_vpc(b: Backend, vpc_id: str) -> str:
    from mlops.engine.fakes import EXISTING_VPC_CIDR

    if vpc_id not in b._aliases:
        vpc = b.client("ec2").create_vpc(CidrBlock=EXISTING_VPC_CIDR)["Vpc"]
        b.alias(vpc_id, vpc["VpcId"])
    return b._aliases[vpc_id]


@adopts("aws:ec2/getSubnet:getSubnet")
def _adopt_subnet(b: Backend, args: dict[str, Any], result: dict[str, Any]) -> None:
    if result["id"] in b._aliases:
        return
    subnet = b.client("ec2").create_subnet(
        VpcId=_existing_vpc(b, result["vpcId"]),
        CidrBlock=result["cidrBlock"],
        AvailabilityZone=result["availabilityZone"],
    )["Subnet"]
    b.alias(result["id"], subnet["SubnetId"])


@adopts("aws:ec2/getSecurityGroup:getSecurityGroup")
def _adopt_security_group(b: Backend, args: dict[str, Any], result: dict[str, Any]) -> None:
    if result["id"] in b._aliases:
        return
    group = b.client("ec2").create_security_group(
        GroupName=result["name"],
        Description=result["description"],
        VpcId=_existing_vpc(b, result["vpcId"]),
    )
    b.alias(result["id"], group["GroupId"])


def subnet_zones(b: Backend, subnet_ids: list[str]) -> tuple[set[str], set[str]]:
    """(zones, VPCs) of existing subnets; AWS-style error for unknown ones."""
    subnets = b.client("ec2").describe_subnets(SubnetIds=subnet_ids)["Subnets"]
    return {s["AvailabilityZone"] for s in subnets}, {s["VpcId"] for s in subnets}
