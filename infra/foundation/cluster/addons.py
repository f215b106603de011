"""ClusterControllers: the controllers an EKS cluster lacks until they are installed.

* the AWS Load Balancer Controller, which serves every ``alb`` Ingress (and the
  IngressClass ``alb`` itself); its region and VPC id are set explicitly because the
  nodes' instance-metadata hop limit of 1 keeps pods from discovering them;
* the Cluster Autoscaler, which resizes the managed node groups between their minimum and
  maximum (a group at desired 0 grows only through it). It rather than Karpenter: the
  node groups already exist, EKS tags their Auto Scaling groups for its auto-discovery,
  and its role needs only to resize groups carrying this cluster's tag; Karpenter would
  launch nodes of its own beside them (a NodePool, an EC2NodeClass, an instance profile,
  an SQS interruption queue and a role that passes the node role), a second node model;
* the NVIDIA device plugin, when a GPU node group exists: without it no node advertises
  ``nvidia.com/gpu`` and GPU quotas mean nothing.

Each is a Helm release pinned to an exact chart version with an inventory beside this
file (``inventory-*.yaml``: the objects and images it creates); images are the charts'
release tags, set explicitly. The controllers that call AWS get IRSA roles scoped to this
cluster's resources by tag. They run on the existing system nodes: nothing here bills.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.base import versions
from infra.foundation.identity.component import WorkloadIdentity, WorkloadIdentityArgs

NAMESPACE = "kube-system"
LB_CONTROLLER = "aws-load-balancer-controller"
LB_CHART_VERSION = "3.5.0"
LB_IMAGE = ("public.ecr.aws/eks/aws-load-balancer-controller", "v3.5.0")
LB_REPOSITORY = "https://aws.github.io/eks-charts"
AUTOSCALER = "cluster-autoscaler"
AUTOSCALER_CHART_VERSION = "9.59.0"
# the tag follows the cluster's minor (the version table)
AUTOSCALER_REPOSITORY_IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler"
AUTOSCALER_TAG = "k8s.io/cluster-autoscaler"  # + "/<cluster>": the groups it may resize
AUTOSCALER_REPOSITORY = "https://kubernetes.github.io/autoscaler"
DEVICE_PLUGIN = "nvidia-device-plugin"
DEVICE_PLUGIN_CHART_VERSION = "0.20.0"
DEVICE_PLUGIN_IMAGE = ("nvcr.io/nvidia/k8s-device-plugin", "v0.20.0")
DEVICE_PLUGIN_REPOSITORY = "https://nvidia.github.io/k8s-device-plugin"
# the tag the controller puts on everything it creates, valued with the cluster name
LB_CLUSTER_TAG = "elbv2.k8s.aws/cluster"
SYSTEM_NODES = {"node-group": "system"}


@dataclass(frozen=True, kw_only=True)
class ClusterControllersArgs:
    """Inputs of ClusterControllers.

    Attributes:
        cluster_name: EKS cluster name (known before deployment).
        kubernetes_version: The cluster's minor (``1.35``): the autoscaler's release.
        account_id / region / partition: Where the cluster is.
        vpc_id: The cluster's VPC (the load balancer controller's ``vpcId``).
        oidc_provider_arn / oidc_issuer: The cluster's IRSA issuer.
        gpu_node_group: Name of the GPU node group (its ``node-group`` label), if any.
        depends_on: What must exist first (node groups, add-ons).
        tags: Tags for the IAM roles.
    """

    cluster_name: str
    kubernetes_version: str
    account_id: str
    region: str
    partition: str = "aws"
    vpc_id: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    gpu_node_group: str | None = None
    depends_on: tuple[pulumi.Resource, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


def _arn(args: ClusterControllersArgs, service: str, resource: str) -> str:
    return f"arn:{args.partition}:{service}:{args.region}:{args.account_id}:{resource}"


def lb_controller_policy(args: ClusterControllersArgs) -> str:
    """The controller's upstream policy (kubernetes-sigs/aws-load-balancer-controller
    v3.5.0 docs/install/iam_policy.json), narrowed: every write is limited to this
    account and region and, where the upstream checks only that the cluster tag exists,
    to resources tagged with this cluster's name. Left out: WAF, WAFv2 and Shield (the
    chart runs with them off), Cognito (no Ingress here authenticates with it), Outposts'
    customer-owned IP usage, and certificate discovery (ACM DescribeCertificate and IAM
    server certificates cannot be scoped to named resources): an HTTPS Ingress names its
    certificate (``alb.ingress.kubernetes.io/certificate-arn``)."""
    mine = {f"aws:ResourceTag/{LB_CLUSTER_TAG}": args.cluster_name}
    tagging_mine = {f"aws:RequestTag/{LB_CLUSTER_TAG}": args.cluster_name}
    # the VPC carries kubernetes.io/cluster/<name> (infra/foundation/network)
    in_vpc = {f"aws:ResourceTag/kubernetes.io/cluster/{args.cluster_name}": "shared"}
    sg = _arn(args, "ec2", "security-group/*")
    vpc = _arn(args, "ec2", "vpc/*")
    lbs = [
        _arn(args, "elasticloadbalancing", r)
        for r in ("targetgroup/*/*", "loadbalancer/net/*/*", "loadbalancer/app/*/*")
    ]
    listeners = [
        _arn(args, "elasticloadbalancing", f"{kind}/{lb}/*/*/*")
        for kind in ("listener", "listener-rule")
        for lb in ("net", "app")
    ]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ServiceLinkedRole",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}
            },
        },
        {
            "Sid": "Describe",
            "Effect": "Allow",
            "Resource": "*",
            "Action": [
                "ec2:DescribeAccountAttributes",
                "ec2:DescribeAddresses",
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeInternetGateways",
                "ec2:DescribeVpcs",
                "ec2:DescribeVpcPeeringConnections",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeInstances",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeTags",
                "ec2:DescribeCoipPools",
                "ec2:DescribeIpamPools",
                "ec2:DescribeRouteTables",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeListenerCertificates",
                "elasticloadbalancing:DescribeSSLPolicies",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetGroupAttributes",
                "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeTags",
                "elasticloadbalancing:DescribeTrustStores",
                "elasticloadbalancing:DescribeListenerAttributes",
                "elasticloadbalancing:DescribeCapacityReservation",
            ],
        },
        {
            "Sid": "VpcSecurityGroups",
            "Effect": "Allow",
            "Action": "ec2:GetSecurityGroupsForVpc",
            "Resource": vpc,
            "Condition": {"StringEquals": in_vpc},
        },
        # the cluster security group (EKS tags it kubernetes.io/cluster/<name>: owned), which
        # the nodes carry, admits the ALBs
        {
            "Sid": "ClusterSecurityGroupRules",
            "Effect": "Allow",
            "Resource": sg,
            "Action": ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
            "Condition": {
                "StringEquals": {
                    f"aws:ResourceTag/kubernetes.io/cluster/{args.cluster_name}": "owned"
                }
            },
        },
        {
            "Sid": "CreateSecurityGroup",
            "Effect": "Allow",
            "Action": "ec2:CreateSecurityGroup",
            "Resource": sg,
            "Condition": {"StringEquals": tagging_mine},
        },
        {
            "Sid": "CreateSecurityGroupInVpc",
            "Effect": "Allow",
            "Action": "ec2:CreateSecurityGroup",
            "Resource": vpc,
            "Condition": {"StringEquals": in_vpc},
        },
        {
            "Sid": "TagNewSecurityGroup",
            "Effect": "Allow",
            "Action": "ec2:CreateTags",
            "Resource": sg,
            "Condition": {
                "StringEquals": {"ec2:CreateAction": "CreateSecurityGroup", **tagging_mine}
            },
        },
        {
            "Sid": "TagOwnSecurityGroups",
            "Effect": "Allow",
            "Action": ["ec2:CreateTags", "ec2:DeleteTags"],
            "Resource": sg,
            "Condition": {
                "Null": {f"aws:RequestTag/{LB_CLUSTER_TAG}": "true"},
                "StringEquals": mine,
            },
        },
        {
            "Sid": "OwnSecurityGroups",
            "Effect": "Allow",
            "Resource": sg,
            "Action": [
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupIngress",
                "ec2:DeleteSecurityGroup",
            ],
            "Condition": {"StringEquals": mine},
        },
        {
            "Sid": "CreateLoadBalancers",
            "Effect": "Allow",
            "Resource": lbs,
            "Action": [
                "elasticloadbalancing:CreateLoadBalancer",
                "elasticloadbalancing:CreateTargetGroup",
            ],
            "Condition": {"StringEquals": tagging_mine},
        },
        {
            "Sid": "TagNewLoadBalancers",
            "Effect": "Allow",
            "Action": "elasticloadbalancing:AddTags",
            "Resource": lbs,
            "Condition": {
                "StringEquals": {
                    "elasticloadbalancing:CreateAction": [
                        "CreateTargetGroup",
                        "CreateLoadBalancer",
                    ],
                    **tagging_mine,
                }
            },
        },
        {
            "Sid": "TagOwnLoadBalancers",
            "Effect": "Allow",
            "Resource": lbs,
            "Action": ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
            "Condition": {
                "Null": {f"aws:RequestTag/{LB_CLUSTER_TAG}": "true"},
                "StringEquals": mine,
            },
        },
        {
            "Sid": "OwnLoadBalancers",
            "Effect": "Allow",
            "Resource": lbs,
            "Condition": {"StringEquals": mine},
            "Action": [
                "elasticloadbalancing:ModifyLoadBalancerAttributes",
                "elasticloadbalancing:SetIpAddressType",
                "elasticloadbalancing:SetSecurityGroups",
                "elasticloadbalancing:SetSubnets",
                "elasticloadbalancing:DeleteLoadBalancer",
                "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:ModifyCapacityReservation",
                "elasticloadbalancing:ModifyIpPools",
                "elasticloadbalancing:RegisterTargets",
                "elasticloadbalancing:DeregisterTargets",
                # listeners and rules are created and changed on the controller's own ALBs
                "elasticloadbalancing:CreateListener",
                "elasticloadbalancing:CreateRule",
            ],
        },
        {
            "Sid": "OwnListeners",
            "Effect": "Allow",
            "Resource": listeners,
            "Condition": {"StringEquals": mine},
            "Action": [
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:RemoveTags",
                "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:DeleteRule",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:ModifyListenerAttributes",
                "elasticloadbalancing:AddListenerCertificates",
                "elasticloadbalancing:RemoveListenerCertificates",
                "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:SetRulePriorities",
            ],
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def autoscaler_policy(args: ClusterControllersArgs) -> str:
    """The Cluster Autoscaler's documented AWS policy (cluster-autoscaler/cloudprovider/aws
    README): resize only the Auto Scaling groups EKS tagged as this cluster's."""
    groups = _arn(args, "autoscaling", "autoScalingGroup:*:autoScalingGroupName/*")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Discover",
                    "Effect": "Allow",
                    "Resource": "*",
                    "Action": [
                        "autoscaling:DescribeAutoScalingGroups",
                        "autoscaling:DescribeAutoScalingInstances",
                        "autoscaling:DescribeLaunchConfigurations",
                        "autoscaling:DescribeScalingActivities",
                        "autoscaling:DescribeTags",
                        "ec2:DescribeImages",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeLaunchTemplateVersions",
                        "ec2:GetInstanceTypesFromInstanceRequirements",
                    ],
                },
                # labels and taints of a group at zero nodes come from its node group
                {
                    "Sid": "NodeGroups",
                    "Effect": "Allow",
                    "Action": "eks:DescribeNodegroup",
                    "Resource": _arn(args, "eks", f"nodegroup/{args.cluster_name}/*/*"),
                },
                {
                    "Sid": "ResizeOwnGroups",
                    "Effect": "Allow",
                    "Resource": groups,
                    "Action": [
                        "autoscaling:SetDesiredCapacity",
                        "autoscaling:TerminateInstanceInAutoScalingGroup",
                    ],
                    "Condition": {
                        "StringEquals": {
                            f"aws:ResourceTag/{AUTOSCALER_TAG}/{args.cluster_name}": "owned"
                        }
                    },
                },
            ],
        },
        sort_keys=True,
    )


def _image(image: tuple[str, str]) -> dict[str, str]:
    return {"repository": image[0], "tag": image[1]}


class ClusterControllers(pulumi.ComponentResource):
    """Load balancer controller, cluster autoscaler and (with GPU nodes) device plugin.

    Outputs:
        releases: Names of the Helm releases.
    """

    def __init__(
        self, name: str, args: ClusterControllersArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:cluster:ClusterControllers", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        after = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        releases = []

        lb_role = f"{args.cluster_name}-lb-controller"
        lb_identity = WorkloadIdentity(
            f"{name}-lb-controller",
            WorkloadIdentityArgs(
                role_name=lb_role,
                namespace=NAMESPACE,
                service_account=LB_CONTROLLER,
                oidc_provider_arn=args.oidc_provider_arn,
                oidc_issuer=args.oidc_issuer,
                inline_policies={"load-balancers": lb_controller_policy(args)},
                tags=dict(args.tags),
            ),
            opts=child,
        )
        # its webhook mutates every new Service and validates every Ingress, failing closed:
        # whatever writes one waits for it (the cluster's workload provider does)
        self.lb_controller = k8s.helm.v3.Release(
            f"{name}-{LB_CONTROLLER}",
            name=LB_CONTROLLER,
            chart=LB_CONTROLLER,
            version=LB_CHART_VERSION,
            namespace=NAMESPACE,
            repository_opts={"repo": LB_REPOSITORY},
            values={
                "clusterName": args.cluster_name,
                # IMDS is out of the pods' reach (hop limit 1): no discovery
                "region": args.region,
                "vpcId": args.vpc_id,
                "image": _image(LB_IMAGE),
                "serviceAccount": {
                    "create": True,
                    "name": LB_CONTROLLER,
                    "annotations": {
                        "eks.amazonaws.com/role-arn": f"arn:{args.partition}:iam::"
                        f"{args.account_id}:role/{lb_role}"
                    },
                },
                "enableShield": False,
                "enableWaf": False,
                "enableWafv2": False,
                "nodeSelector": SYSTEM_NODES,
            },
            # its webhooks must answer before Services and Ingresses are admitted
            skip_await=False,
            timeout=600,
            opts=pulumi.ResourceOptions.merge(
                after, pulumi.ResourceOptions(depends_on=[lb_identity])
            ),
        )
        releases.append(self.lb_controller)
        # the other charts run Services of their own
        after = pulumi.ResourceOptions.merge(
            after, pulumi.ResourceOptions(depends_on=[self.lb_controller])
        )

        ca_role = f"{args.cluster_name}-cluster-autoscaler"
        ca_identity = WorkloadIdentity(
            f"{name}-{AUTOSCALER}",
            WorkloadIdentityArgs(
                role_name=ca_role,
                namespace=NAMESPACE,
                service_account=AUTOSCALER,
                oidc_provider_arn=args.oidc_provider_arn,
                oidc_issuer=args.oidc_issuer,
                inline_policies={"node-groups": autoscaler_policy(args)},
                tags=dict(args.tags),
            ),
            opts=child,
        )
        releases.append(
            k8s.helm.v3.Release(
                f"{name}-{AUTOSCALER}",
                name=AUTOSCALER,
                chart=AUTOSCALER,
                version=AUTOSCALER_CHART_VERSION,
                namespace=NAMESPACE,
                repository_opts={"repo": AUTOSCALER_REPOSITORY},
                values={
                    "cloudProvider": "aws",
                    "fullnameOverride": AUTOSCALER,
                    "autoDiscovery": {"clusterName": args.cluster_name},
                    "awsRegion": args.region,
                    "image": _image(
                        (
                            AUTOSCALER_REPOSITORY_IMAGE,
                            versions.cluster_autoscaler_tag(args.kubernetes_version),
                        )
                    ),
                    "rbac": {
                        "serviceAccount": {
                            "create": True,
                            "name": AUTOSCALER,
                            "annotations": {
                                "eks.amazonaws.com/role-arn": f"arn:{args.partition}:iam::"
                                f"{args.account_id}:role/{ca_role}"
                            },
                        }
                    },
                    "nodeSelector": SYSTEM_NODES,
                },
                opts=pulumi.ResourceOptions.merge(
                    after, pulumi.ResourceOptions(depends_on=[ca_identity])
                ),
            )
        )

        if args.gpu_node_group:
            releases.append(
                k8s.helm.v3.Release(
                    f"{name}-{DEVICE_PLUGIN}",
                    name=DEVICE_PLUGIN,
                    chart=DEVICE_PLUGIN,
                    version=DEVICE_PLUGIN_CHART_VERSION,
                    namespace=NAMESPACE,
                    repository_opts={"repo": DEVICE_PLUGIN_REPOSITORY},
                    values={
                        "image": _image(DEVICE_PLUGIN_IMAGE),
                        # upstream's affinity wants node-feature-discovery labels, which
                        # EKS nodes lack; the GPU group's own label replaces that list
                        "affinity": {
                            "nodeAffinity": {
                                "requiredDuringSchedulingIgnoredDuringExecution": {
                                    "nodeSelectorTerms": [
                                        {
                                            "matchExpressions": [
                                                {
                                                    "key": "node-group",
                                                    "operator": "In",
                                                    "values": [args.gpu_node_group],
                                                }
                                            ]
                                        }
                                    ]
                                }
                            }
                        },
                    },
                    opts=after,
                )
            )
        self.releases = [r.name for r in releases]
        self.register_outputs({"releases": self.releases})
