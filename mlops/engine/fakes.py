"""Realistic, deterministic outputs for mocked resources and invokes.

IDs and names derive from a hash of the stack and the resource's logical name,
so two plans of the same inputs print the same bytes. ARNs are built from the
account, region and name the way AWS builds them.
"""

from __future__ import annotations

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
            cond: dict[str, dict[str, Any]] = {}
            for c in st["conditions"]:
                cond.setdefault(c["test"], {})[c["variable"]] = _one_or_list(c["values"])
            out["Condition"] = cond
        statements.append(out)
    doc: dict[str, Any] = {"Version": args.get("version") or "2012-10-17", "Statement": statements}
    if args.get("policyId"):
        doc["Id"] = args["policyId"]
    text = json.dumps(doc, indent=2)
    return {
        "json": text,
        "minifiedJson": json.dumps(doc, separators=(",", ":")),
        "id": ctx.digest(text),
    }
