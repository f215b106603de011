"""Cluster: the Kubernetes cluster the in-cluster components run on.

``mode="create"``: an EKS cluster with a private API endpoint (public only with
allowed CIDRs), control-plane logs in a KMS-encrypted log group, secrets envelope
encryption with a customer key, API-mode access entries, an IAM OIDC provider for
IRSA, managed node groups (system on-demand, workloads, optional GPU) whose launch
template enforces IMDSv2 with a hop limit of 1 (pods cannot borrow the node role)
and encrypted root volumes, the core add-ons (VPC CNI with NetworkPolicy enforcement
and EBS CSI with IRSA roles of their own, CoreDNS, kube-proxy, metrics-server) and the
default StorageClass (encrypted gp3; EKS >= 1.30 has none), and the controllers of
``addons.py`` (load balancers, node autoscaling, the NVIDIA device plugin).

``mode="existing"``: bring your own cluster. Nothing in AWS is created; the
Kubernetes provider is built from the given kubeconfig and IRSA uses the given
OIDC provider.

Either way ``provider`` is the one Kubernetes provider the in-cluster
components receive through ``opts``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.base.aws import log_key_policy, rotating_key
from infra.foundation.cluster.addons import ClusterControllers, ClusterControllersArgs
from infra.foundation.cluster.config import ClusterConfig
from infra.foundation.identity.component import (
    WorkloadIdentity,
    WorkloadIdentityArgs,
    issuer_from_provider_arn,
)

CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
# the vpc-cni add-on's configuration schema (aws eks describe-addon-configuration) takes
# this flag as the string "true"; docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html
VPC_CNI_CONFIGURATION = {"enableNetworkPolicy": "true"}
# EKS >= 1.30 creates no default StorageClass: PVCs without a class stay Pending
DEFAULT_STORAGE_CLASS = "gp3"
_GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}


@dataclass(frozen=True, kw_only=True)
class ClusterArgs:
    """Inputs of a Cluster.

    Attributes:
        config: The stack's ``cluster`` section (mode, version, endpoint access, logs,
            node groups; for an existing cluster its kubeconfig, OIDC provider and node
            security group).
        name: EKS cluster name (also the prefix of its IAM role names).
        account_id: AWS account.
        region: AWS region.
        partition: AWS partition.
        subnet_ids: Private subnets for the control plane ENIs and nodes (create).
        admin_role_arns: IAM roles given cluster-admin through access entries (CI).
        tags: Tags for every taggable child.
    """

    config: ClusterConfig
    name: str
    account_id: str
    region: str
    partition: str = "aws"
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    admin_role_arns: Sequence[str] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.config.mode == "create" and self.subnet_ids is None:
            raise ValueError("a created cluster needs subnet_ids")

    @property
    def node_role_name(self) -> str:
        return f"{self.name}-node"

    @property
    def node_role_arn(self) -> str:
        """Known before deployment, so registry policies can name the nodes."""
        return f"arn:{self.partition}:iam::{self.account_id}:role/{self.node_role_name}"

    @property
    def key_alias(self) -> str:
        return f"alias/{self.name}-eks"


def _trust_service(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": ["sts:AssumeRole", "sts:TagSession"]
                    if service.startswith("eks")
                    else "sts:AssumeRole",
                }
            ],
        },
        sort_keys=True,
    )


def cluster_key_policy(args: ClusterArgs) -> str:
    """Key policy: the account administers; CloudWatch Logs may use it for this
    cluster's log group only (EKS itself uses it through the cluster role)."""
    return log_key_policy(
        account_id=args.account_id,
        region=args.region,
        partition=args.partition,
        log_group_arn=(
            f"arn:{args.partition}:logs:{args.region}:{args.account_id}:"
            f"log-group:/aws/eks/{args.name}/cluster"
        ),
        sid="ControlPlaneLogs",
    )


def kubeconfig_for(*, name: str, endpoint: str, ca_data: str, region: str) -> str:
    """Kubeconfig (JSON is YAML) that gets tokens with the caller's AWS identity."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": name,
                    "cluster": {"server": endpoint, "certificate-authority-data": ca_data},
                }
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
            "users": [
                {
                    "name": name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": [
                                "eks",
                                "get-token",
                                "--cluster-name",
                                name,
                                "--region",
                                region,
                                "--output",
                                "json",
                            ],
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


class Cluster(pulumi.ComponentResource):
    """EKS cluster with node groups and add-ons, or a brought-in cluster.

    Outputs:
        cluster_name: EKS cluster name.
        endpoint: API server URL (``None`` for an existing cluster).
        oidc_provider_arn: IAM OIDC provider ARN used by every IRSA trust policy.
        oidc_issuer: Issuer host/path (``oidc.eks.<region>.amazonaws.com/id/<ID>``).
        node_security_group_id: Security group of the nodes and pods; the only
            source the databases and cache admit.
        kubeconfig: Kubeconfig (secret).

    Attributes:
        provider: The Kubernetes provider for in-cluster components.
    """

    cluster_name: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    node_security_group_id: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider
    # the node role the stack creates (None for a brought-in cluster): policies that name it
    # by ARN depend on it (IAM and ECR refuse a principal that does not exist yet)
    node_role: aws.iam.Role | None = None

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:cluster:Cluster", name, None, opts)
        self._args = args
        endpoint: pulumi.Input[str | None]
        if args.config.mode == "existing":
            assert args.config.kubeconfig is not None and args.config.oidc_provider_arn is not None
            assert args.config.node_security_group_id is not None
            self.cluster_name = pulumi.Output.from_input(args.name)
            self.oidc_provider_arn = pulumi.Output.from_input(args.config.oidc_provider_arn)
            self.oidc_issuer = pulumi.Output.from_input(
                issuer_from_provider_arn(args.config.oidc_provider_arn)
            )
            self.node_security_group_id = pulumi.Output.from_input(
                args.config.node_security_group_id
            )
            self.kubeconfig = pulumi.Output.secret(args.config.kubeconfig)
            endpoint = None
        else:
            endpoint = self._create(name, args)
        if args.config.mode == "create":
            # the controllers go first, on a provider of their own: the load balancer
            # controller's webhooks refuse Services and Ingresses until its pods answer, so
            # the provider everything else is written with waits for it
            controllers = ClusterControllers(
                f"{name}-controllers",
                ClusterControllersArgs(
                    cluster_name=args.name,
                    kubernetes_version=args.config.version,
                    account_id=args.account_id,
                    region=args.region,
                    partition=args.partition,
                    vpc_id=self.cluster.vpc_config.vpc_id,
                    oidc_provider_arn=self.oidc_provider_arn,
                    oidc_issuer=self.oidc_issuer,
                    gpu_node_group="gpu" if args.config.node_groups.gpu.enabled else None,
                    depends_on=(*self._node_groups_created, self._ebs_csi),
                    tags=args.tags,
                ),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=self._kubernetes(f"{name}-k8s-controllers"),
                ),
            )
            ready: list[pulumi.Resource] = [controllers.lb_controller]
        else:
            ready = []
        self.provider = self._kubernetes(f"{name}-k8s", depends_on=ready)
        if args.config.mode == "create":
            self._storage_class(name)
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "endpoint": endpoint,
                "oidc_provider_arn": self.oidc_provider_arn,
                "oidc_issuer": self.oidc_issuer,
                "node_security_group_id": self.node_security_group_id,
                "kubeconfig": self.kubeconfig,
            }
        )

    def _kubernetes(
        self, name: str, depends_on: list[pulumi.Resource] | None = None
    ) -> k8s.Provider:
        """A provider for this cluster; server-side apply: field ownership instead of
        last-applied annotations."""
        return k8s.Provider(
            name,
            kubeconfig=self.kubeconfig,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on or []),
        )

    @property
    def node_role_arn(self) -> str | None:
        return self._args.node_role_arn if self._args.config.mode == "create" else None

    def _create(self, name: str, args: ClusterArgs) -> pulumi.Output[str]:
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        p = args.partition
        assert args.subnet_ids is not None  # checked in ClusterArgs

        key = rotating_key(
            name,
            alias=args.key_alias,
            description=f"Encrypts Kubernetes secrets and control-plane logs of {args.name}",
            policy=cluster_key_policy(args),
            tags=tags,
            parent=self,
        )
        # Created first so the retention and key apply (EKS would create it unencrypted, forever).
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/eks/{args.name}/cluster",
            retention_in_days=args.config.log_retention_days,
            kms_key_id=key.arn,
            tags=tags,
            opts=child,
        )

        cluster_role = aws.iam.Role(
            f"{name}-cluster",
            name=f"{args.name}-cluster",
            assume_role_policy=_trust_service("eks.amazonaws.com"),
            tags=tags,
            opts=child,
        )
        cluster_policy = aws.iam.RolePolicyAttachment(
            f"{name}-cluster-policy",
            role=cluster_role.name,
            policy_arn=f"arn:{p}:iam::aws:policy/AmazonEKSClusterPolicy",
            opts=child,
        )
        # EKS encrypts secrets with the key through the cluster role.
        key_use = aws.iam.RolePolicy(
            f"{name}-cluster-kms",
            name="secrets-envelope-encryption",
            role=cluster_role.name,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "UseClusterKey",
                            "Effect": "Allow",
                            "Action": [
                                "kms:CreateGrant",
                                "kms:Decrypt",
                                "kms:DescribeKey",
                                "kms:Encrypt",
                                "kms:ListGrants",
                            ],
                            "Resource": f"arn:{p}:kms:{args.region}:{args.account_id}:key/*",
                            "Condition": {
                                "ForAnyValue:StringEquals": {"kms:ResourceAliases": args.key_alias}
                            },
                        }
                    ],
                },
                sort_keys=True,
            ),
            opts=child,
        )

        self.cluster = aws.eks.Cluster(
            name,
            name=args.name,
            version=args.config.version,
            role_arn=cluster_role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=args.subnet_ids,
                endpoint_private_access=True,
                endpoint_public_access=args.config.endpoint_public_access,
                public_access_cidrs=list(args.config.public_access_cidrs)
                if args.config.endpoint_public_access
                else None,
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                # the deployer (a person or the CI role) must administer what it creates
                bootstrap_cluster_creator_admin_permissions=True,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=list(args.config.log_types),
            # the add-ons below are managed; self-managed defaults would fight them
            bootstrap_self_managed_addons=False,
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[log_group, cluster_policy, key_use]
            ),
        )
        issuer_url = self.cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)  # type: ignore[index]
        oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=issuer_url,
            client_id_lists=["sts.amazonaws.com"],
            tags=tags,
            opts=child,
        )
        self.oidc_provider_arn = oidc.arn
        self.oidc_issuer = issuer_url.apply(lambda u: u.removeprefix("https://"))
        self.cluster_name = self.cluster.name
        self.node_security_group_id = self.cluster.vpc_config.cluster_security_group_id

        for role_arn in args.admin_role_arns:
            short = role_arn.rsplit("/", 1)[-1]
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{short}",
                cluster_name=self.cluster.name,
                principal_arn=role_arn,
                type="STANDARD",
                tags=tags,
                opts=child,
            )
            aws.eks.AccessPolicyAssociation(
                f"{name}-admin-{short}",
                cluster_name=self.cluster.name,
                principal_arn=role_arn,
                policy_arn=f"arn:{p}:eks::aws:cluster-access-policy/{CLUSTER_ADMIN_POLICY}",
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]),
            )

        cni_identity = WorkloadIdentity(
            f"{name}-vpc-cni",
            WorkloadIdentityArgs(
                role_name=f"{args.name}-vpc-cni",
                namespace="kube-system",
                service_account="aws-node",
                oidc_provider_arn=oidc.arn,
                oidc_issuer=self.oidc_issuer,
                managed_policy_arns=[f"arn:{p}:iam::aws:policy/AmazonEKS_CNI_Policy"],
                tags=tags,
            ),
            opts=child,
        )
        # the CNI must be in place before nodes join, or they never become Ready; without
        # its network policy agent, NetworkPolicies are accepted and never enforced
        vpc_cni = self._addon(
            name, "vpc-cni", cni_identity.role_arn, [], configuration=VPC_CNI_CONFIGURATION
        )

        node_groups = self._node_groups(name, args, tags, depends_on=[vpc_cni])
        self._node_groups_created = tuple(node_groups)

        ebs_identity = WorkloadIdentity(
            f"{name}-ebs-csi",
            WorkloadIdentityArgs(
                role_name=f"{args.name}-ebs-csi",
                namespace="kube-system",
                service_account="ebs-csi-controller-sa",
                oidc_provider_arn=oidc.arn,
                oidc_issuer=self.oidc_issuer,
                managed_policy_arns=[
                    f"arn:{p}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
                ],
                tags=tags,
            ),
            opts=child,
        )
        # these run as pods: they need nodes, or the add-on stays DEGRADED
        self._addon(name, "kube-proxy", None, [])
        self._addon(name, "coredns", None, node_groups)
        self._ebs_csi = self._addon(name, "aws-ebs-csi-driver", ebs_identity.role_arn, node_groups)
        # the Metrics API every HorizontalPodAutoscaler reads (an EKS community add-on)
        self._addon(name, "metrics-server", None, node_groups)

        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                self.cluster.name,
                self.cluster.endpoint,
                self.cluster.certificate_authority.apply(lambda ca: ca.data),
            ).apply(
                lambda v: kubeconfig_for(name=v[0], endpoint=v[1], ca_data=v[2], region=args.region)
            )
        )
        return self.cluster.endpoint

    def _storage_class(self, name: str) -> None:
        """The default StorageClass: encrypted gp3 through the EBS CSI driver, bound where
        the pod lands (an EBS volume lives in one zone)."""
        k8s.storage.v1.StorageClass(
            f"{name}-{DEFAULT_STORAGE_CLASS}",
            metadata={
                "name": DEFAULT_STORAGE_CLASS,
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true"},
            volume_binding_mode="WaitForFirstConsumer",
            reclaim_policy="Delete",
            allow_volume_expansion=True,
            opts=pulumi.ResourceOptions(
                parent=self, provider=self.provider, depends_on=[self._ebs_csi]
            ),
        )

    def _addon(
        self,
        name: str,
        addon: str,
        role_arn: pulumi.Input[str] | None,
        depends_on: Sequence[pulumi.Resource],
        configuration: Mapping[str, str] | None = None,
    ) -> aws.eks.Addon:
        return aws.eks.Addon(
            f"{name}-{addon}",
            cluster_name=self.cluster.name,
            addon_name=addon,
            service_account_role_arn=role_arn,
            configuration_values=json.dumps(dict(configuration), sort_keys=True)
            if configuration
            else None,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="PRESERVE",
            tags=dict(self._args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )

    def _node_groups(
        self,
        name: str,
        args: ClusterArgs,
        tags: dict[str, str],
        depends_on: Sequence[pulumi.Resource],
    ) -> list[aws.eks.NodeGroup]:
        child = pulumi.ResourceOptions(parent=self)
        p = args.partition
        node_role = aws.iam.Role(
            f"{name}-node",
            name=args.node_role_name,
            assume_role_policy=_trust_service("ec2.amazonaws.com"),
            tags=tags,
            opts=child,
        )
        self.node_role = node_role
        # no CNI policy here: the VPC CNI has its own IRSA role
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=node_role.name,
                policy_arn=f"arn:{p}:iam::aws:policy/{policy}",
                opts=child,
            )
            for policy in ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly")
        ]
        groups = []
        for group_name, group in args.config.node_groups.enabled_groups():
            gpu = group_name == "gpu"
            template = aws.ec2.LaunchTemplate(
                f"{name}-{group_name}",
                name=f"{args.name}-{group_name}",
                description=f"{args.name} {group_name} nodes: IMDSv2 only, encrypted gp3 root",
                metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                    http_endpoint="enabled",
                    http_tokens="required",
                    # 1 hop: containers cannot reach IMDS, so pods use IRSA, not the node role
                    http_put_response_hop_limit=1,
                ),
                block_device_mappings=[
                    aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                        device_name="/dev/xvda",
                        ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                            volume_size=group.disk_size_gb,
                            volume_type="gp3",
                            encrypted="true",  # this provider field is a string
                            delete_on_termination="true",
                        ),
                    )
                ],
                tag_specifications=[
                    aws.ec2.LaunchTemplateTagSpecificationArgs(
                        resource_type="instance",
                        tags={**tags, "Name": f"{args.name}-{group_name}"},
                    )
                ],
                tags=tags,
                opts=child,
            )
            groups.append(
                aws.eks.NodeGroup(
                    f"{name}-{group_name}",
                    cluster_name=self.cluster.name,
                    node_group_name=group_name,
                    node_role_arn=node_role.arn,
                    subnet_ids=args.subnet_ids,
                    instance_types=list(group.instance_types),
                    capacity_type=group.capacity_type,
                    ami_type="AL2023_x86_64_NVIDIA" if gpu else "AL2023_x86_64_STANDARD",
                    scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                        min_size=group.min_size,
                        desired_size=group.desired_size,
                        max_size=group.max_size,
                    ),
                    update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
                    launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                        id=template.id, version=template.latest_version.apply(str)
                    ),
                    labels={"node-group": group_name},
                    taints=[aws.eks.NodeGroupTaintArgs(**_GPU_TAINT)] if gpu else None,
                    tags=tags,
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        depends_on=[*attachments, *depends_on],
                        # the autoscaler owns desired size after creation
                        ignore_changes=["scalingConfig.desiredSize"],
                    ),
                )
            )
        return groups
