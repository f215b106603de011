"""Realistic, deterministic outputs for mocked resources and invokes.

IDs and names derive from a hash of the stack and the resource's logical name,
so two plans of the same inputs print the same bytes. ARNs are built from the
account, region and name the way AWS builds them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account, so ARNs match what moto holds
CREATED = "2026-01-01T00:00:00Z"


@dataclass(frozen=True)
class Ctx:
    stack: str
    region: str
    account: str = ACCOUNT_ID
    partition: str = "aws"
    # what earlier invokes of this plan answered (e.g. the zone of each looked-up subnet)
    memo: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, hash=False)

    def digest(self, *parts: str, n: int = 8) -> str:
        return hashlib.sha256("\x00".join((self.stack, *parts)).encode()).hexdigest()[:n]

    def uuid(self, *parts: str) -> str:
        return str(uuid.UUID(self.digest(*parts, n=32)))

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account if account else ''}:{resource}"
        )


def autoname(ctx: Ctx, typ: str, name: str, length: int = 7) -> str:
    """Pulumi's auto-naming (name + '-' + random hex), made deterministic."""
    return f"{name}-{ctx.digest(typ, name, n=length)}"


Outputs = tuple[str, dict[str, Any]]
Faker = Callable[[Ctx, str, str, dict[str, Any]], Outputs]
FAKERS: dict[str, Faker] = {}


def fake(*types: str) -> Callable[[Faker], Faker]:
    def register(fn: Faker) -> Faker:
        for t in types:
            FAKERS[t] = fn
        return fn

    return register


@fake("aws:s3/bucket:Bucket")
def _bucket(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    bucket = inputs.get("bucket") or autoname(ctx, typ, name)
    return bucket, {
        "bucket": bucket,
        "arn": f"arn:{ctx.partition}:s3:::{bucket}",
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{ctx.region}.amazonaws.com",
        "region": ctx.region,
        "hostedZoneId": "Z3AQBSTGFYJSTF",
    }


@fake("aws:kms/key:Key")
def _kms_key(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    key_id = ctx.uuid(typ, name)
    return key_id, {"keyId": key_id, "arn": ctx.arn("kms", f"key/{key_id}")}


@fake("aws:kms/alias:Alias")
def _kms_alias(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    alias = inputs.get("name") or f"alias/{autoname(ctx, typ, name)}"
    return alias, {
        "name": alias,
        "arn": ctx.arn("kms", alias),
        "targetKeyArn": ctx.arn("kms", f"key/{inputs.get('targetKeyId', '')}"),
    }


@fake("aws:iam/role:Role")
def _iam_role(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    role = inputs.get("name") or autoname(ctx, typ, name)
    path = inputs.get("path") or "/"
    return role, {
        "name": role,
        "arn": ctx.arn("iam", f"role{path}{role}", region=False),
        "uniqueId": "AROA" + ctx.digest(typ, name, n=17).upper(),
        "createDate": CREATED,
    }


@fake("aws:iam/policy:Policy")
def _iam_policy(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    policy = inputs.get("name") or autoname(ctx, typ, name)
    path = inputs.get("path") or "/"
    arn = ctx.arn("iam", f"policy{path}{policy}", region=False)
    return arn, {
        "name": policy,
        "arn": arn,
        "policyId": "ANPA" + ctx.digest(typ, name, n=17).upper(),
    }


@fake("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
def _oidc_provider(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    url = str(inputs.get("url", "")).removeprefix("https://")
    arn = ctx.arn("iam", f"oidc-provider/{url}", region=False)
    return arn, {"arn": arn}


@fake("aws:iam/rolePolicy:RolePolicy")
def _role_policy(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    policy = inputs.get("name") or autoname(ctx, typ, name)
    return f"{inputs.get('role')}:{policy}", {"name": policy}


def _generic_aws(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    # aws:<module>/<camelType>:<Type>  ->  arn:aws:<module>:<region>:<account>:<camelType>/<id>
    module, _, rest = typ.removeprefix("aws:").partition("/")
    kind = rest.partition(":")[0]
    ident = f"{kind[:4].lower()}-{ctx.digest(typ, name, n=17)}"
    return ident, {"arn": ctx.arn(module, f"{kind}/{ident}")}


def _kubernetes(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    meta = dict(inputs.get("metadata") or {})
    kind = typ.rsplit(":", 1)[-1]
    meta.setdefault("name", autoname(ctx, typ, name, length=8))
    if kind not in _CLUSTER_SCOPED:
        meta.setdefault("namespace", "default")
    meta.update(
        uid=ctx.uuid(typ, name), resourceVersion="1", creationTimestamp=CREATED, generation=1
    )
    ident = f"{meta['namespace']}/{meta['name']}" if "namespace" in meta else meta["name"]
    return ident, {"metadata": meta}


_CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "PriorityClass",
    "ClusterServingRuntime",
    "ClusterIssuer",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "PersistentVolume",
}


def _helm_release(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    release = inputs.get("name") or autoname(ctx, typ, name, length=8)
    namespace = inputs.get("namespace") or "default"
    return f"{namespace}/{release}", {
        "name": release,
        "status": {
            "name": release,
            "namespace": namespace,
            "chart": inputs.get("chart"),
            "version": inputs.get("version"),
            "revision": 1,
            "status": "deployed",
        },
    }


def new_resource(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    """ID and state for a mocked resource: its inputs plus what the provider would add."""
    if typ in FAKERS:
        ident, extra = FAKERS[typ](ctx, typ, name, inputs)
    elif typ.startswith("kubernetes:helm.sh/"):
        ident, extra = _helm_release(ctx, typ, name, inputs)
    elif typ.startswith("kubernetes:") and not typ.startswith("kubernetes:yaml"):
        ident, extra = _kubernetes(ctx, typ, name, inputs)
    elif typ.startswith("pulumi:providers:"):
        ident, extra = ctx.uuid(typ, name), {}
    elif typ.startswith("aws:"):
        ident, extra = _generic_aws(ctx, typ, name, inputs)
    else:
        ident, extra = f"{name}-{ctx.digest(typ, name)}", {}
    if typ.startswith("aws:") and "tags" in inputs:
        extra.setdefault("tagsAll", inputs["tags"])
    extra.setdefault("id", ident)
    return ident, {**inputs, **extra}


# ---------------------------------------------------------------- invokes

Invoke = Callable[[Ctx, dict[str, Any]], dict[str, Any]]
INVOKES: dict[str, Invoke] = {}


def invoke(*tokens: str) -> Callable[[Invoke], Invoke]:
    def register(fn: Invoke) -> Invoke:
        for t in tokens:
            INVOKES[t] = fn
        return fn

    return register


@invoke("aws:index/getCallerIdentity:getCallerIdentity")
def _caller_identity(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "accountId": ctx.account,
        "arn": f"arn:{ctx.partition}:iam::{ctx.account}:user/mlops-plan",
        "userId": "AIDAMLOPSPLANOFFLINE",
        "id": ctx.account,
    }


@invoke("aws:index/getRegion:getRegion")
def _region(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    region = args.get("region") or args.get("name") or ctx.region
    return {
        "name": region,
        "region": region,
        "id": region,
        "endpoint": f"ec2.{region}.amazonaws.com",
        "description": region,
    }


@invoke("aws:index/getPartition:getPartition")
def _partition(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "partition": ctx.partition,
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
        "id": ctx.partition,
    }


@invoke("aws:index/getAvailabilityZones:getAvailabilityZones")
def _zones(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    letters = "abcdef"
    return {
        "names": [f"{ctx.region}{c}" for c in letters],
        "zoneIds": [f"use1-az{i + 1}" for i in range(len(letters))],
        "groupNames": [ctx.region] * len(letters),
        "state": args.get("state") or "available",
        "id": ctx.region,
    }


def _one_or_list(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else sorted(values)


def _document_statements(documents: Any) -> list[dict[str, Any]]:
    """The statements of the JSON policy documents given to getPolicyDocument."""
    out: list[dict[str, Any]] = []
    for text in documents or []:
        try:
            doc = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise ValueError(f"getPolicyDocument: {str(text)[:40]!r} is not a JSON policy document")
        found = doc.get("Statement") or []
        out += [
            st for st in (found if isinstance(found, list) else [found]) if isinstance(st, dict)
        ]
    return out


def _merged(base: list[dict[str, Any]], over: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``base`` with each statement of ``over`` replacing the one of the same Sid, or added."""
    out = list(base)
    for st in over:
        same = [i for i, b in enumerate(out) if st.get("Sid") and b.get("Sid") == st.get("Sid")]
        if same:
            out[same[0]] = st
        else:
            out.append(st)
    return out


@invoke("aws:iam/getPolicyDocument:getPolicyDocument")
def _policy_document(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    """Render the JSON the provider would: single values collapse to strings."""
    statements = []
    for st in args.get("statements") or []:
        out: dict[str, Any] = {}
        if st.get("sid"):
            out["Sid"] = st["sid"]
        out["Effect"] = st.get("effect") or "Allow"
        for key, field in (("Action", "actions"), ("NotAction", "notActions")):
            if st.get(field):
                out[key] = _one_or_list(st[field])
        for key, field in (("Resource", "resources"), ("NotResource", "notResources")):
            if st.get(field):
                out[key] = _one_or_list(st[field])
        for key, field in (("Principal", "principals"), ("NotPrincipal", "notPrincipals")):
            if st.get(field):
                principals: dict[str, list[str]] = {}
                for p in st[field]:
                    principals.setdefault(p["type"], []).extend(p.get("identifiers") or [])
                out[key] = (
                    "*"
                    if principals == {"*": ["*"]}
                    else {k: _one_or_list(v) for k, v in principals.items()}
                )
        if st.get("conditions"):
            # two conditions on one test and variable add up, as in the provider: keeping
            # the last alone would plan a narrower condition than AWS enforces
            values: dict[str, dict[str, list[Any]]] = {}
            for c in st["conditions"]:
                values.setdefault(c["test"], {}).setdefault(c["variable"], []).extend(
                    c.get("values") or []
                )
            out["Condition"] = {
                test: {var: _one_or_list(v) for var, v in by_var.items()}
                for test, by_var in values.items()
            }
        statements.append(out)
    # The provider merges whole documents around the statements: sourcePolicyDocuments
    # first, the statements replacing any of theirs with the same Sid, then
    # overridePolicyDocuments replacing by Sid again (a statement without one is added).
    # Leaving them out would plan a narrower document than `pulumi up` creates.
    merged = _merged(_document_statements(args.get("sourcePolicyDocuments")), statements)
    merged = _merged(merged, _document_statements(args.get("overridePolicyDocuments")))
    doc: dict[str, Any] = {"Version": args.get("version") or "2012-10-17", "Statement": merged}
    if args.get("policyId"):
        doc["Id"] = args["policyId"]
    text = json.dumps(doc, indent=2)
    return {
        "json": text,
        "minifiedJson": json.dumps(doc, separators=(",", ":")),
        "id": ctx.digest(text),
    }


# ---------------------------------------------------------------- EC2 / VPC

# type -> (ID prefix, the resource kind in its ARN)
_EC2_KINDS = {
    "aws:ec2/vpc:Vpc": ("vpc", "vpc"),
    "aws:ec2/subnet:Subnet": ("subnet", "subnet"),
    "aws:ec2/securityGroup:SecurityGroup": ("sg", "security-group"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ("sg", "security-group"),
    "aws:ec2/routeTable:RouteTable": ("rtb", "route-table"),
    "aws:ec2/internetGateway:InternetGateway": ("igw", "internet-gateway"),
    "aws:ec2/natGateway:NatGateway": ("nat", "natgateway"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("vpce", "vpc-endpoint"),
    "aws:ec2/launchTemplate:LaunchTemplate": ("lt", "launch-template"),
    "aws:ec2/flowLog:FlowLog": ("fl", "vpc-flow-log"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ("rtbassoc", "route-table"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("sgr", "security-group-rule"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ("sgr", "security-group-rule"),
}


@fake(*_EC2_KINDS)
def _ec2(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    prefix, kind = _EC2_KINDS[typ]
    ident = f"{prefix}-{ctx.digest(typ, name, n=17)}"
    out: dict[str, Any] = {"arn": ctx.arn("ec2", f"{kind}/{ident}"), "ownerId": ctx.account}
    if prefix == "vpc":
        out.update(
            defaultSecurityGroupId=f"sg-{ctx.digest(typ, name, 'default-sg', n=17)}",
            mainRouteTableId=f"rtb-{ctx.digest(typ, name, 'main-rtb', n=17)}",
            defaultNetworkAclId=f"acl-{ctx.digest(typ, name, 'acl', n=17)}",
        )
    elif prefix == "lt":
        out.update(latestVersion=1, defaultVersion=1)
    elif prefix == "sgr":
        out["securityGroupRuleId"] = ident
    elif prefix == "sg":
        out["name"] = inputs.get("name") or autoname(ctx, typ, name)
    return ident, out


@fake("aws:ec2/eip:Eip")
def _eip(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    alloc = f"eipalloc-{ctx.digest(typ, name, n=17)}"
    n = int(ctx.digest(typ, name, n=4), 16)
    return alloc, {
        "allocationId": alloc,
        "publicIp": f"203.0.113.{n % 254 + 1}",  # TEST-NET-3: never a real address
        "arn": ctx.arn("ec2", f"elastic-ip/{alloc}"),
    }


@fake("aws:ec2/route:Route")
def _route(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    ident = f"r-{inputs.get('routeTableId')}{inputs.get('destinationCidrBlock', '')}"
    return ident, {"state": "active"}


@fake("aws:cloudwatch/logGroup:LogGroup")
def _log_group(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    group = inputs.get("name") or autoname(ctx, typ, name)
    return group, {"name": group, "arn": ctx.arn("logs", f"log-group:{group}")}


# ---------------------------------------------------------------- EKS


@fake("aws:eks/cluster:Cluster")
def _eks_cluster(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    cluster = inputs.get("name") or autoname(ctx, typ, name)
    oidc_id = ctx.digest(typ, name, "oidc", n=32).upper()
    host = ctx.digest(typ, name, "endpoint", n=32).upper()
    vpc = dict(inputs.get("vpcConfig") or {})
    vpc.update(
        clusterSecurityGroupId=f"sg-{ctx.digest(typ, name, 'cluster-sg', n=17)}",
        vpcId=vpc.get("vpcId") or f"vpc-{ctx.digest(typ, name, 'vpc', n=17)}",
    )
    ca = ctx.digest(typ, name, "ca", n=64)
    return cluster, {
        "name": cluster,
        "arn": ctx.arn("eks", f"cluster/{cluster}"),
        "endpoint": f"https://{host}.gr7.{ctx.region}.eks.amazonaws.com",
        "certificateAuthority": {
            "data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t" + ca  # base64 PEM header + body
        },
        "identities": [
            {"oidcs": [{"issuer": f"https://oidc.eks.{ctx.region}.amazonaws.com/id/{oidc_id}"}]}
        ],
        "vpcConfig": vpc,
        "platformVersion": "eks.1",
        "status": "ACTIVE",
        "createdAt": CREATED,
        "clusterId": ctx.uuid(typ, name),
    }


@fake("aws:eks/nodeGroup:NodeGroup")
def _node_group(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    cluster = inputs.get("clusterName", "")
    group = inputs.get("nodeGroupName") or autoname(ctx, typ, name)
    ident = f"{cluster}:{group}"
    return ident, {
        "nodeGroupName": group,
        "arn": ctx.arn("eks", f"nodegroup/{cluster}/{group}/{ctx.uuid(typ, name)}"),
        "status": "ACTIVE",
        "releaseVersion": "1.35.0-20260101",
        "resources": [{"autoscalingGroups": [{"name": f"eks-{group}-{ctx.uuid(typ, name)}"}]}],
    }


@fake("aws:eks/addon:Addon")
def _addon(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    cluster, addon = inputs.get("clusterName", ""), inputs.get("addonName", "")
    return f"{cluster}:{addon}", {
        "arn": ctx.arn("eks", f"addon/{cluster}/{addon}/{ctx.uuid(typ, name)}"),
        "addonVersion": inputs.get("addonVersion") or "v1.0.0-eksbuild.1",
    }


@fake("aws:eks/accessEntry:AccessEntry")
def _access_entry(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    cluster, principal = inputs.get("clusterName", ""), inputs.get("principalArn", "")
    role = principal.rsplit("/", 1)[-1]
    return f"{cluster}:{principal}", {
        "accessEntryArn": ctx.arn("eks", f"access-entry/{cluster}/role/{role}"),
        "userName": principal,
    }


# ---------------------------------------------------------------- RDS, ElastiCache, DynamoDB


@fake("aws:rds/instance:Instance")
def _rds_instance(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    ident = inputs.get("identifier") or autoname(ctx, typ, name)
    host = f"{ident}.c{ctx.digest(typ, name, n=11)}.{ctx.region}.rds.amazonaws.com"
    port = inputs.get("port") or (3306 if inputs.get("engine") == "mysql" else 5432)
    return ident, {
        "identifier": ident,
        "arn": ctx.arn("rds", f"db:{ident}"),
        "address": host,
        "endpoint": f"{host}:{port}",
        "port": port,
        "resourceId": "db-" + ctx.digest(typ, name, n=26).upper(),
        "hostedZoneId": "Z2R2ITUGPM61AM",
        "status": "available",
    }


@fake("aws:rds/subnetGroup:SubnetGroup", "aws:rds/parameterGroup:ParameterGroup")
def _rds_named(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    group = inputs.get("name") or autoname(ctx, typ, name)
    kind = "subgrp" if typ.endswith("SubnetGroup") else "pg"
    return group, {"name": group, "arn": ctx.arn("rds", f"{kind}:{group}")}


@fake("aws:elasticache/replicationGroup:ReplicationGroup")
def _replication_group(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    group = inputs.get("replicationGroupId") or autoname(ctx, typ, name)
    area, direction, number = ctx.region.split("-")[-3:]
    short = f"{area[:2]}{direction[0]}{number}"  # us-east-1 -> use1, as ElastiCache names it
    suffix = f"{ctx.digest(typ, name, n=6)}.{short}.cache.amazonaws.com"
    return group, {
        "arn": ctx.arn("elasticache", f"replicationgroup:{group}"),
        "primaryEndpointAddress": f"master.{group}.{suffix}",
        "readerEndpointAddress": f"replica.{group}.{suffix}",
        "memberClusters": [
            f"{group}-{i + 1:03d}" for i in range(int(inputs.get("numCacheClusters") or 1))
        ],
        "engineVersionActual": f"{inputs.get('engineVersion', '7.1')}.0",
        "clusterEnabled": False,
    }


@fake("aws:elasticache/subnetGroup:SubnetGroup")
def _cache_subnets(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    group = inputs.get("name") or autoname(ctx, typ, name)
    return group, {"name": group, "arn": ctx.arn("elasticache", f"subnetgroup:{group}")}


@fake("aws:dynamodb/table:Table")
def _table(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    table = inputs.get("name") or autoname(ctx, typ, name)
    return table, {
        "name": table,
        "arn": ctx.arn("dynamodb", f"table/{table}"),
        "streamArn": "",
    }


# ---------------------------------------------------------------- Secrets Manager, ECR


@fake("aws:secretsmanager/secret:Secret")
def _secret(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    secret = inputs.get("name") or autoname(ctx, typ, name)
    suffix = "".join(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[int(c, 16) * 3 % 52]
        for c in ctx.digest(typ, name, "suffix", n=6)
    )
    arn = ctx.arn("secretsmanager", f"secret:{secret}-{suffix}")
    return arn, {"name": secret, "arn": arn}


@fake("aws:secretsmanager/secretVersion:SecretVersion")
def _secret_version(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    version = ctx.uuid(typ, name)
    return f"{inputs.get('secretId')}|{version}", {
        "versionId": version,
        "arn": inputs.get("secretId"),
        "versionStages": ["AWSCURRENT"],
    }


@fake("aws:ecr/repository:Repository")
def _ecr_repository(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    repo = inputs.get("name") or autoname(ctx, typ, name)
    return repo, {
        "name": repo,
        "arn": ctx.arn("ecr", f"repository/{repo}"),
        "registryId": ctx.account,
        "repositoryUrl": f"{ctx.account}.dkr.ecr.{ctx.region}.amazonaws.com/{repo}",
    }


@fake("aws:ecr/lifecyclePolicy:LifecyclePolicy", "aws:ecr/repositoryPolicy:RepositoryPolicy")
def _ecr_policy(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    return str(inputs.get("repository", "")), {"registryId": ctx.account}


@fake("aws:codebuild/project:Project")
def _codebuild_project(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    project = inputs.get("name") or autoname(ctx, typ, name)
    arn = ctx.arn("codebuild", f"project/{project}")
    # the provider's id of a project is its ARN
    return arn, {"name": project, "arn": arn, "badgeUrl": ""}


# ---------------------------------------------------------------- pulumi_random

_SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


def secret_value(value: Any) -> dict[str, Any]:
    """A value the SDK resolves as a Pulumi secret (rendered "[secret]" in the plan)."""
    return {**_SECRET, "value": value}


def random_password(ctx: Ctx, name: str, inputs: dict[str, Any]) -> str:
    """The deterministic password the offline plan gives a RandomPassword.

    Every character class the inputs ask for appears at least ``min_*`` times, the
    rest is drawn from all enabled classes; tests recompute it to prove that it
    never appears in plaintext anywhere in the plan.
    """
    length = int(inputs.get("length") or 16)
    specials = inputs.get("overrideSpecial") or "!@#$%&*()-_=+[]{}<>:?"
    classes: list[tuple[str, int]] = []
    for flag, chars, min_key in (
        ("lower", "abcdefghijklmnopqrstuvwxyz", "minLower"),
        ("upper", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "minUpper"),
        ("numeric", "0123456789", "minNumeric"),
        ("special", specials, "minSpecial"),
    ):
        if inputs.get(flag, True) is not False:
            classes.append((chars, int(inputs.get(min_key) or 0)))
    if not classes:
        raise ValueError("RandomPassword with every character class disabled")
    stream = hashlib.sha256(f"{ctx.stack}\x00{name}\x00password".encode()).digest()
    while len(stream) < 2 * length:
        stream += hashlib.sha256(stream).digest()
    out: list[str] = []
    for chars, minimum in classes:
        out.extend(chars[stream[len(out)] % len(chars)] for _ in range(minimum))
    everything = "".join(chars for chars, _ in classes)
    while len(out) < length:
        out.append(everything[stream[len(out)] % len(everything)])
    return "".join(out[:length])


@fake("random:index/randomPassword:RandomPassword")
def _random_password(ctx: Ctx, typ: str, name: str, inputs: dict[str, Any]) -> Outputs:
    value = random_password(ctx, name, inputs)
    bcrypt = "$2a$10$" + hashlib.sha256(value.encode()).hexdigest()[:53]
    return "none", {"result": secret_value(value), "bcryptHash": secret_value(bcrypt)}


# ---------------------------------------------------------------- look-ups of existing resources
# A stack that brings its own cluster looks up the VPC pieces it is given. Offline they
# are answered consistently: the i-th subnet looked up lies in the i-th zone, inside
# 10.200.0.0/16 of the VPC it was asked for; the backend then makes them exist in moto.

EXISTING_VPC_CIDR = "10.200.0.0/16"


@invoke("aws:ec2/getSubnet:getSubnet")
def _get_subnet(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    subnet = args.get("id")
    if not subnet:
        raise ValueError("getSubnet offline needs an explicit id")
    seen: dict[str, int] = ctx.memo.setdefault("subnets", {})
    index = seen.setdefault(subnet, len(seen))
    vpc = args.get("vpcId") or f"vpc-{ctx.digest('existing-vpc', n=17)}"
    return {
        "id": subnet,
        "arn": ctx.arn("ec2", f"subnet/{subnet}"),
        "vpcId": vpc,
        "availabilityZone": f"{ctx.region}{'abcdef'[index % 6]}",
        "availabilityZoneId": f"az{index % 6 + 1}",
        "cidrBlock": f"10.200.{index * 16}.0/20",
        "ownerId": ctx.account,
        "state": "available",
        "mapPublicIpOnLaunch": False,
        "tags": {},
    }


@invoke("aws:ec2/getSecurityGroup:getSecurityGroup")
def _get_security_group(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    group = args.get("id")
    if not group:
        raise ValueError("getSecurityGroup offline needs an explicit id")
    return {
        "id": group,
        "arn": ctx.arn("ec2", f"security-group/{group}"),
        "vpcId": args.get("vpcId") or f"vpc-{ctx.digest('existing-vpc', n=17)}",
        "name": args.get("name") or f"existing-{group}",
        "description": "existing security group",
        "tags": {},
    }
