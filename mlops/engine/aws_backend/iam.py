"""IAM: roles, policies, attachments, OIDC providers, and IAM's size quotas."""

from __future__ import annotations

import json
import re
from typing import Any

from mlops.engine import internals
from mlops.engine.aws_backend.dispatch import (
    AwsRejected,
    Backend,
    handles,
    policy_json,
    tags,
)

# IAM's quotas on policy sizes, which moto does not enforce (IAM counts no white space):
# docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
MANAGED_POLICY_MAX = 6144
ROLE_INLINE_MAX = 10240  # all of a role's inline policies together
TRUST_POLICY_MAX = 2048  # the default; a quota increase allows up to 4,096


def _iam_size(text: str) -> int:
    return len(re.sub(r"\s", "", text))


def _within(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise AwsRejected(f"LimitExceeded: Cannot exceed quota for {what}: {limit} ({size})")


def _put_inline(b: Backend, role: str, policy: str, document: str) -> None:
    """PutRolePolicy, refused as IAM refuses it when the role's inline policies together
    exceed their quota (a policy put again under its name replaces the old one)."""
    iam = b.client("iam")
    size = _iam_size(document)
    for other in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        if other != policy:
            held = iam.get_role_policy(RoleName=role, PolicyName=other)["PolicyDocument"]
            size += _iam_size(held if isinstance(held, str) else json.dumps(held))
    _within(size, ROLE_INLINE_MAX, "PolicySize (aggregate inline policies of the role)")
    iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=document)


@handles("aws:iam/role:Role")
def _role(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    iam = b.client("iam")
    trust = inputs.get("assumeRolePolicy")
    doc = policy_json(trust, "trust policy")
    _within(_iam_size(str(trust)), TRUST_POLICY_MAX, "ACLSizePerRole (the trust policy)")
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    for i, st in enumerate(statements):
        if "Principal" not in st:
            raise AwsRejected(
                f"MalformedPolicyDocument: trust policy statement {i} has no Principal"
            )
        if "Resource" in st or "NotResource" in st:
            raise AwsRejected("MalformedPolicyDocument: Has prohibited field Resource")
    kwargs: dict[str, Any] = {
        "RoleName": state["name"],
        "AssumeRolePolicyDocument": trust,
        "Path": inputs.get("path") or "/",
    }
    if inputs.get("description"):
        kwargs["Description"] = inputs["description"]
    if inputs.get("maxSessionDuration"):
        kwargs["MaxSessionDuration"] = int(inputs["maxSessionDuration"])
    if inputs.get("tags"):
        kwargs["Tags"] = tags(inputs)
    iam.create_role(**kwargs)
    # moto validates trust policies only here, so send it again.
    iam.update_assume_role_policy(RoleName=state["name"], PolicyDocument=trust)
    for inline in inputs.get("inlinePolicies") or []:
        if inline.get("policy"):
            _put_inline(b, state["name"], inline["name"], inline["policy"])


@handles("aws:iam/policy:Policy")
def _policy(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    policy_json(inputs.get("policy"), "policy")
    _within(_iam_size(inputs["policy"]), MANAGED_POLICY_MAX, "PolicySize")
    b.client("iam").create_policy(
        PolicyName=state["name"],
        Path=inputs.get("path") or "/",
        PolicyDocument=inputs["policy"],
        Description=inputs.get("description", ""),
    )


@handles("aws:iam/rolePolicy:RolePolicy")
def _role_policy(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    policy_json(inputs.get("policy"), "inline policy")
    _put_inline(b, inputs["role"], state["name"], inputs["policy"])


_AWS_MANAGED = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy(/.*/|/)([^/]+)$")


_AWS_MANAGED_DATA: dict[str, Any] = {}


def aws_managed_policies() -> dict[str, Any]:
    """AWS's managed policies as moto bundles them (read-only; once per process)."""
    if not _AWS_MANAGED_DATA:
        from moto.iam import aws_managed_policies as bundled

        _AWS_MANAGED_DATA.update(
            internals.parsed_json(
                str(bundled.__file__), lambda: json.loads(bundled.aws_managed_policies_data)
            )
        )
    return _AWS_MANAGED_DATA


def _ensure_aws_managed_policy(b: Backend, arn: str) -> None:
    """Make one AWS-managed policy exist in moto, if AWS has it.

    moto loads AWS-managed policies only when configured to, and then all ~1,300 of
    them per plan (slow); this adds just the one named, from moto's bundled copy of
    AWS's list, so an ARN with a wrong name or path still fails as in AWS.
    """
    match = _AWS_MANAGED.match(arn)
    if not match:
        return
    from moto.iam.models import AWSManagedPolicy, iam_backends

    data = aws_managed_policies().get(match.group(2))
    if data is None or data.get("Path") != match.group(1):
        return  # moto then refuses the attachment as AWS would
    backend = iam_backends[b.ctx.account][b.ctx.partition]
    if arn not in backend.managed_policies:
        policy = AWSManagedPolicy.from_data(match.group(2), b.ctx.account, "us-east-1", data)
        backend.managed_policies[policy.arn] = policy


@handles("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
def _attachment(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    _ensure_aws_managed_policy(b, inputs["policyArn"])
    b.client("iam").attach_role_policy(RoleName=inputs["role"], PolicyArn=inputs["policyArn"])


@handles("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
def _oidc(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    url = inputs["url"]
    b.client("iam").create_open_id_connect_provider(
        Url=url if url.startswith("https://") else f"https://{url}",
        ClientIDList=inputs.get("clientIdLists") or [],
        ThumbprintList=inputs.get("thumbprintLists") or [],
        Tags=tags(inputs),
    )
