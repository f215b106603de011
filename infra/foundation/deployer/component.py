"""DeployRunner: a CodeBuild project inside the VPC that runs ``pulumi up`` for CI.

The cluster's API endpoint is private; GitHub-hosted runners cannot reach it and cannot
be allow-listed by CIDR. The runner can:

* it runs in the private subnets (``vpcConfig``) with a security group of its own whose
  egress is HTTPS to the cluster's security group (the API endpoint's ENIs) and HTTPS
  out through the NAT gateway (AWS APIs, PyPI, the Pulumi CLI and backend), and the
  cluster's security group admits HTTPS from it (a rule on that group);
* its role is trusted only by ``codebuild.amazonaws.com`` for this project
  (``aws:SourceArn``/``aws:SourceAccount``), carries the deployer's permissions
  boundary and holds the deploy policy, and has an EKS access entry with the
  cluster-admin access policy;
* its log group is KMS-encrypted with a key of its own and has a retention; it never
  runs privileged (no Docker daemon).

GitHub Actions uploads the checkout under ``s3://<artifact bucket>/deploy/<env>/`` and
starts a build with that source (``.github/workflows/deploy.yml``); the build runs
``infra/foundation/deployer/buildspec.yml``. See
docs/adr/0003-how-the-deployer-reaches-the-private-api.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.base.aws import log_key_policy, rotating_key
from infra.foundation.ci.component import attach_managed_policies
from infra.foundation.deployer.config import DeployerConfig

BUILDSPEC = "infra/foundation/deployer/buildspec.yml"  # relative to the uploaded checkout
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
HTTPS = 443


@dataclass(frozen=True, kw_only=True)
class DeployRunnerArgs:
    """Inputs of a DeployRunner.

    Attributes:
        config: The stack's ``deployer`` section.
        name: Name of the project, its role and security group (``<base>-deployer``).
        stack: The stack the runner deploys (its builds refuse any other).
        account_id / region / partition: Where it runs.
        vpc_id / subnet_ids: The VPC and the private subnets of the cluster.
        cluster_name: The EKS cluster it deploys into.
        cluster_security_group_id: The cluster's security group (its API endpoint's ENIs).
        source_bucket / source_prefix: Where CI uploads the checkouts; the bucket's key
            alias is ``alias/<bucket>`` (the artifact store's).
        deploy_policies: What ``pulumi up`` of the stack may do: the deploy policy, as
            managed policies (name -> document; too big for inline policies).
        permissions_boundary: The deployer boundary the role carries.
        secrets_name: Secrets Manager secret with the Pulumi backend's credentials.
        tags: Tags for every taggable child.
    """

    config: DeployerConfig
    name: str
    stack: str
    account_id: str
    region: str
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    cluster_name: pulumi.Input[str]
    cluster_security_group_id: pulumi.Input[str]
    source_bucket: str
    source_prefix: str
    deploy_policies: Mapping[str, str]
    permissions_boundary: pulumi.Input[str] | None = None
    secrets_name: str | None = None
    partition: str = "aws"
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def project_arn(self) -> str:
        return f"arn:{self.partition}:codebuild:{self.region}:{self.account_id}:project/{self.name}"

    @property
    def role_name(self) -> str:
        return self.name

    @property
    def log_group_name(self) -> str:
        return f"/aws/codebuild/{self.name}"

    @property
    def log_group_arn(self) -> str:
        return (
            f"arn:{self.partition}:logs:{self.region}:{self.account_id}:"
            f"log-group:{self.log_group_name}"
        )

    @property
    def source_location(self) -> str:
        """The default source (CI overrides it with each upload): ``<bucket>/<key>``."""
        return f"{self.source_bucket}/{self.source_prefix}/source.zip"


def codebuild_trust_policy(args: DeployRunnerArgs) -> str:
    """Only CodeBuild, and only for this project of this account, may assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ThisProjectOnly",
                    "Effect": "Allow",
                    "Principal": {"Service": "codebuild.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": args.account_id},
                        "ArnLike": {"aws:SourceArn": args.project_arn},
                    },
                }
            ],
        },
        sort_keys=True,
    )


def deployer_log_key_policy(args: DeployRunnerArgs) -> str:
    """The account administers the key; CloudWatch Logs uses it for this group only."""
    return log_key_policy(
        account_id=args.account_id,
        region=args.region,
        partition=args.partition,
        log_group_arn=args.log_group_arn,
        sid="BuildLogs",
    )


def runner_policy(args: DeployRunnerArgs, subnet_ids: Sequence[str]) -> str:
    """What the build itself needs: read its source, write its log, and the ENIs
    CodeBuild creates in the subnets (AWS's documented VPC permissions)."""
    p, region, acct = args.partition, args.region, args.account_id
    bucket = f"arn:{p}:s3:::{args.source_bucket}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadCheckouts",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                    "Resource": f"{bucket}/{args.source_prefix}/*",
                },
                {
                    "Sid": "SourceBucket",
                    "Effect": "Allow",
                    "Action": ["s3:GetBucketAcl", "s3:GetBucketLocation"],
                    "Resource": bucket,
                },
                {
                    "Sid": "DecryptCheckouts",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": f"arn:{p}:kms:{region}:{acct}:key/*",
                    "Condition": {
                        "ForAnyValue:StringEquals": {
                            "kms:ResourceAliases": f"alias/{args.source_bucket}"
                        },
                        "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                    },
                },
                {
                    "Sid": "WriteBuildLog",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": [args.log_group_arn, f"{args.log_group_arn}:*"],
                },
                {
                    "Sid": "VpcNetworkInterfaces",
                    "Effect": "Allow",
                    "Action": "ec2:CreateNetworkInterfacePermission",
                    "Resource": f"arn:{p}:ec2:{region}:{acct}:network-interface/*",
                    "Condition": {
                        "StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"},
                        "ArnEquals": {
                            "ec2:Subnet": sorted(
                                f"arn:{p}:ec2:{region}:{acct}:subnet/{s}" for s in subnet_ids
                            )
                        },
                    },
                },
            ],
        },
        sort_keys=True,
    )


class DeployRunner(pulumi.ComponentResource):
    """The in-VPC deploy runner (CodeBuild), its role, network path and logs.

    Outputs:
        project_name: The CodeBuild project CI starts.
        role_arn: The runner's role (the deployer).
        log_group_name: Where each build's log is.
        security_group_id: The runner's security group.
        source: ``s3://<bucket>/<prefix>/``, where CI uploads checkouts.
    """

    project_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: DeployRunnerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:deployer:DeployRunner", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        cfg = args.config

        key = rotating_key(
            name,
            alias=f"alias/{args.name}",
            description=f"Encrypts the build logs of {args.name}",
            policy=deployer_log_key_policy(args),
            tags=tags,
            parent=self,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=args.log_group_name,
            retention_in_days=cfg.log_retention_days,
            kms_key_id=key.arn,
            tags=tags,
            opts=child,
        )

        group = aws.ec2.SecurityGroup(
            name,
            name=args.name,
            description=f"{args.name}: HTTPS to the cluster API and to AWS, nothing in",
            vpc_id=args.vpc_id,
            tags={**tags, "Name": args.name},
            opts=child,
        )
        to_api = aws.vpc.SecurityGroupEgressRule(
            f"{name}-to-api",
            security_group_id=group.id,
            referenced_security_group_id=args.cluster_security_group_id,
            ip_protocol="tcp",
            from_port=HTTPS,
            to_port=HTTPS,
            description="the cluster's private API endpoint",
            tags=tags,
            opts=child,
        )
        to_aws = aws.vpc.SecurityGroupEgressRule(
            f"{name}-to-aws",
            security_group_id=group.id,
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",
            from_port=HTTPS,
            to_port=HTTPS,
            description="AWS APIs, PyPI, the Pulumi CLI and backend, through the NAT gateway",
            tags=tags,
            opts=child,
        )
        api_from_runner = aws.vpc.SecurityGroupIngressRule(
            f"{name}-api",
            security_group_id=args.cluster_security_group_id,
            referenced_security_group_id=group.id,
            ip_protocol="tcp",
            from_port=HTTPS,
            to_port=HTTPS,
            description=f"the Kubernetes API from the deploy runner {args.name}",
            tags=tags,
            opts=child,
        )

        role = aws.iam.Role(
            name,
            name=args.role_name,
            assume_role_policy=codebuild_trust_policy(args),
            description=f"Deploy runner {args.name}: runs pulumi up for stack {args.stack}",
            max_session_duration=3600,
            permissions_boundary=args.permissions_boundary,
            tags=tags,
            opts=child,
        )
        deploy = attach_managed_policies(name, role, args.deploy_policies, tags=tags, parent=self)
        runtime = aws.iam.RolePolicy(
            f"{name}-runtime",
            name="run-builds",
            role=role.name,
            policy=pulumi.Output.from_input(args.subnet_ids).apply(
                lambda ids: runner_policy(args, [str(i) for i in ids])
            ),
            opts=child,
        )
        entry = aws.eks.AccessEntry(
            f"{name}-api",
            cluster_name=args.cluster_name,
            principal_arn=role.arn,
            type="STANDARD",
            tags=tags,
            opts=child,
        )
        admin = aws.eks.AccessPolicyAssociation(
            f"{name}-api",
            cluster_name=args.cluster_name,
            principal_arn=role.arn,
            policy_arn=f"arn:{args.partition}:eks::aws:cluster-access-policy/{CLUSTER_ADMIN_POLICY}",
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]),
        )

        variables = [
            aws.codebuild.ProjectEnvironmentEnvironmentVariableArgs(
                name="STACK", value=args.stack, type="PLAINTEXT"
            )
        ]
        if args.secrets_name:
            variables.append(
                aws.codebuild.ProjectEnvironmentEnvironmentVariableArgs(
                    name="PULUMI_SECRETS_ID", value=args.secrets_name, type="PLAINTEXT"
                )
            )
        project = aws.codebuild.Project(
            name,
            name=args.name,
            description=f"pulumi up of stack {args.stack} from inside its VPC",
            service_role=role.arn,
            source=aws.codebuild.ProjectSourceArgs(
                type="S3", location=args.source_location, buildspec=BUILDSPEC
            ),
            artifacts=aws.codebuild.ProjectArtifactsArgs(type="NO_ARTIFACTS"),
            environment=aws.codebuild.ProjectEnvironmentArgs(
                type="LINUX_CONTAINER",
                compute_type=cfg.compute_type,
                image=cfg.image,
                image_pull_credentials_type="CODEBUILD",
                privileged_mode=False,
                environment_variables=variables,
            ),
            vpc_config=aws.codebuild.ProjectVpcConfigArgs(
                vpc_id=args.vpc_id,
                subnets=args.subnet_ids,
                security_group_ids=[group.id],
            ),
            logs_config=aws.codebuild.ProjectLogsConfigArgs(
                cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(
                    group_name=log_group.name, status="ENABLED"
                ),
                s3_logs=aws.codebuild.ProjectLogsConfigS3LogsArgs(status="DISABLED"),
            ),
            build_timeout=cfg.timeout_minutes,
            queued_timeout=cfg.queued_timeout_minutes,
            # one deploy of the stack at a time
            concurrent_build_limit=1,
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*deploy, runtime, admin, to_api, to_aws, api_from_runner],
            ),
        )
        self.project_name = project.name
        self.role_arn = role.arn
        self.register_outputs(
            {
                "project_name": self.project_name,
                "role_arn": self.role_arn,
                "log_group_name": log_group.name,
                "security_group_id": group.id,
                "source": f"s3://{args.source_bucket}/{args.source_prefix}/",
            }
        )
