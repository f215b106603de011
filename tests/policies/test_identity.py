"""Identity rules: wildcard actions/resources, IRSA and GitHub trust, admin attachments."""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import find, messages, mutated, res

POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF"
GITHUB = "token.actions.githubusercontent.com"
SCOPED = {
    "Sid": "Prefix",
    "Effect": "Allow",
    "Action": ["s3:GetObject", "s3:PutObject"],
    "Resource": "arn:aws:s3:::acme-artifacts/teams/risk/*",
}


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust(issuer: str, conditions: dict[str, Any]) -> str:
    return doc(
        {
            "Sid": "Trust",
            "Effect": "Allow",
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{issuer}"},
            "Condition": conditions,
        }
    )


IRSA_OK = {
    "StringEquals": {
        f"{ISSUER}:sub": "system:serviceaccount:team-risk:trainer",
        f"{ISSUER}:aud": "sts.amazonaws.com",
    }
}
GITHUB_OK = {
    "StringEquals": {
        f"{GITHUB}:aud": "sts.amazonaws.com",
        f"{GITHUB}:sub": "repo:acme/ml-platform:environment:prod",
    }
}


# ------------------------------------------------------------------ wildcard actions
def test_iam_no_wildcard_actions_passes_named_actions() -> None:
    rs = [
        res(POLICY, "p", {"policy": doc(SCOPED, {**SCOPED, "Action": "iam:Get*"})}),
        res(
            ROLE,
            "r",
            {"assumeRolePolicy": "{}", "inlinePolicies": [{"name": "x", "policy": doc(SCOPED)}]},
        ),
    ]
    assert messages("iam-no-wildcard-actions", rs) == []


@pytest.mark.parametrize(
    ("type_", "inputs", "message"),
    [
        (
            POLICY,
            {"policy": doc({**SCOPED, "Action": "*"})},
            "policy: statement Prefix allows action '*'.",
        ),
        (
            ROLE_POLICY,
            {"role": "r", "policy": doc({**SCOPED, "Action": ["s3:*"]})},
            "policy: statement Prefix allows action 's3:*'.",
        ),
        (
            ROLE,
            {"inlinePolicies": [{"name": "inline", "policy": doc({**SCOPED, "Action": "*"})}]},
            "inline policy 'inline': statement Prefix allows action '*'.",
        ),
        (
            POLICY,
            {
                "policy": doc(
                    {
                        "Sid": "N",
                        "Effect": "Allow",
                        "NotAction": "iam:*",
                        "Resource": "arn:aws:s3:::b",
                    }
                )
            },
            "policy: statement N allows NotAction (everything else).",
        ),
    ],
)
def test_iam_no_wildcard_actions_fails(type_: str, inputs: dict[str, Any], message: str) -> None:
    assert messages("iam-no-wildcard-actions", [res(type_, "p", inputs)]) == [message]


def test_iam_rules_survive_secret_and_garbage_documents() -> None:
    rs = [
        res(POLICY, "secret", {"policy": "[secret]"}),
        res(POLICY, "garbage", {"policy": "not json"}),
        res(ROLE, "r", {"assumeRolePolicy": "[secret]", "inlinePolicies": "[secret]"}),
    ]
    for policy in (
        "iam-no-wildcard-actions",
        "iam-no-wildcard-resource-on-write",
        "iam-irsa-trust-pinned",
        "iam-github-oidc-trust-pinned",
    ):
        assert messages(policy, rs) == []


# ------------------------------------------------------------------ wildcard resource
def test_iam_no_wildcard_resource_on_write_passes_reads_and_scoped_writes() -> None:
    rs = [
        res(
            POLICY,
            "p",
            {
                "policy": doc(
                    SCOPED,
                    {
                        "Sid": "Login",
                        "Effect": "Allow",
                        "Action": "ecr:GetAuthorizationToken",
                        "Resource": "*",
                    },
                    {
                        "Sid": "Slr",
                        "Effect": "Allow",
                        "Action": "iam:CreateServiceLinkedRole",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"iam:AWSServiceName": "eks.amazonaws.com"}},
                    },
                    {
                        "Sid": "DenyAll",
                        "Effect": "Deny",
                        "Action": "s3:DeleteBucket",
                        "Resource": "*",
                    },
                )
            },
        )
    ]
    assert messages("iam-no-wildcard-resource-on-write", rs) == []


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            {**SCOPED, "Resource": "*"},
            "policy: statement Prefix allows write action(s) s3:PutObject on Resource '*'.",
        ),
        (
            {
                "Sid": "Pass",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": ["*"],
                "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
            },
            "policy: statement Pass allows write action(s) iam:PassRole on Resource '*'.",
        ),
    ],
)
def test_iam_no_wildcard_resource_on_write_fails(statement: dict[str, Any], message: str) -> None:
    rs = [res(ROLE_POLICY, "p", {"role": "r", "policy": doc(statement)})]
    assert messages("iam-no-wildcard-resource-on-write", rs) == [message]


def test_iam_scoping_condition_keys_are_configurable() -> None:
    st = {
        "Sid": "Pass",
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
    }
    rs = [res(POLICY, "p", {"policy": doc(st)})]
    assert (
        messages(
            "iam-no-wildcard-resource-on-write",
            rs,
            {"scoping_condition_keys": ["aws:RequestedRegion"]},
        )
        == []
    )


# ------------------------------------------------------------------ IRSA trust
def test_iam_irsa_trust_pinned_passes() -> None:
    rs = [res(ROLE, "r", {"assumeRolePolicy": trust(ISSUER, IRSA_OK)})]
    assert messages("iam-irsa-trust-pinned", rs) == []


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        (
            {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}},
            f"Statement Trust trusts {ISSUER} without StringEquals on '{ISSUER}:sub'.",
        ),
        (
            {
                "StringLike": {f"{ISSUER}:sub": "system:serviceaccount:*:*"},
                "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
            },
            f"Statement Trust trusts {ISSUER} without StringEquals on '{ISSUER}:sub' "
            "(StringLike is not a pin).",
        ),
        (
            {
                "StringEquals": {
                    f"{ISSUER}:sub": "system:serviceaccount:team-risk:*",
                    f"{ISSUER}:aud": "sts.amazonaws.com",
                }
            },
            f"Statement Trust: '{ISSUER}:sub' must name system:serviceaccount:<namespace>:<name>, "
            "got ['system:serviceaccount:team-risk:*'].",
        ),
        (
            {"StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:team-risk:trainer"}},
            f"Statement Trust: '{ISSUER}:aud' must be StringEquals 'sts.amazonaws.com', got None.",
        ),
    ],
)
def test_iam_irsa_trust_pinned_fails(conditions: dict[str, Any], message: str) -> None:
    rs = [res(ROLE, "r", {"assumeRolePolicy": trust(ISSUER, conditions)})]
    assert messages("iam-irsa-trust-pinned", rs) == [message]


# ------------------------------------------------------------------ GitHub trust
def test_iam_github_oidc_trust_pinned_passes() -> None:
    rs = [res(ROLE, "r", {"assumeRolePolicy": trust(GITHUB, GITHUB_OK)})]
    assert messages("iam-github-oidc-trust-pinned", rs) == []


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        (
            {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}},
            f"Statement Trust trusts every GitHub repository: pin '{GITHUB}:sub'.",
        ),
        (
            {
                "StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"},
                "StringLike": {f"{GITHUB}:sub": "repo:acme/*"},
            },
            f"Statement Trust: '{GITHUB}:sub' value 'repo:acme/*' does not pin one repository "
            "(repo:<owner>/<name>:...).",
        ),
        (
            {"StringEquals": {f"{GITHUB}:sub": "repo:acme/ml-platform:ref:refs/heads/main"}},
            f"Statement Trust: '{GITHUB}:aud' must be StringEquals 'sts.amazonaws.com', got None.",
        ),
    ],
)
def test_iam_github_oidc_trust_pinned_fails(conditions: dict[str, Any], message: str) -> None:
    rs = [res(ROLE, "r", {"assumeRolePolicy": trust(GITHUB, conditions)})]
    assert messages("iam-github-oidc-trust-pinned", rs) == [message]


# ------------------------------------------------------------------ admin attachments
ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def test_iam_no_admin_policy_attachment_passes() -> None:
    rs = [
        res(
            ATTACH,
            "a",
            {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"},
        )
    ]
    assert messages("iam-no-admin-policy-attachment", rs) == []


def test_iam_no_admin_policy_attachment_fails() -> None:
    rs = [
        res(
            ROLE,
            "r",
            {
                "assumeRolePolicy": "{}",
                "managedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"],
            },
        )
    ]
    assert messages("iam-no-admin-policy-attachment", rs) == [
        "Attaches 'arn:aws:iam::aws:policy/AdministratorAccess'."
    ]


def test_iam_no_admin_policy_attachment_refuses_power_user_in_any_partition() -> None:
    rs = [
        res(ATTACH, "a", {"role": "r", "policyArn": "arn:aws:iam::aws:policy/PowerUserAccess"}),
        res(ATTACH, "b", {"role": "r", "policyArn": "arn:aws-cn:iam::aws:policy/IAMFullAccess"}),
    ]
    assert sorted(messages("iam-no-admin-policy-attachment", rs)) == [
        "Attaches 'arn:aws-cn:iam::aws:policy/IAMFullAccess'.",
        "Attaches 'arn:aws:iam::aws:policy/PowerUserAccess'.",
    ]


# ------------------------------------------------------------------ GitHub trust pattern
def test_iam_github_oidc_trust_refuses_a_pattern_subject() -> None:
    conditions = {
        "StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"},
        "StringLike": {f"{GITHUB}:sub": "repo:acme/ml-platform:*"},
    }
    rs = [res(ROLE, "r", {"assumeRolePolicy": trust(GITHUB, conditions)})]
    assert messages("iam-github-oidc-trust-pinned", rs) == [
        f"Statement Trust: '{GITHUB}:sub' value 'repo:acme/ml-platform:*' is a pattern: it admits "
        "every branch, environment or pull request it matches; pin the one subject the deploy "
        "jobs present."
    ]


# ------------------------------------------------------------------ permissions boundaries
BOUNDARY = "arn:aws:iam::123456789012:policy/boundary/acme-dev-boundary"
CODEBUILD_TRUST = doc(
    {
        "Effect": "Allow",
        "Principal": {"Service": "codebuild.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
)
EC2_TRUST = doc(
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
)
CAP = doc({"Sid": "Cap", "Effect": "Allow", "Action": ["s3:*", "ec2:*"], "Resource": "*"})


def bounded_stack() -> list[dict[str, Any]]:
    """A deployer (GitHub's role), a runner (CodeBuild's) and a workload role, all bounded."""
    return [
        res(POLICY, "cap", {"name": "acme-dev-boundary", "path": "/boundary/", "policy": CAP}),
        res(
            ROLE,
            "ci",
            {
                "name": "acme-dev-github-actions",
                "assumeRolePolicy": trust(GITHUB, GITHUB_OK),
                "permissionsBoundary": BOUNDARY,
            },
        ),
        res(
            ROLE,
            "runner",
            {
                "name": "acme-dev-deployer",
                "assumeRolePolicy": CODEBUILD_TRUST,
                "permissionsBoundary": BOUNDARY,
            },
        ),
        res(
            ROLE,
            "node",
            {
                "name": "acme-dev-node",
                "assumeRolePolicy": EC2_TRUST,
                "permissionsBoundary": BOUNDARY,
            },
        ),
    ]


def test_iam_role_permissions_boundary_passes() -> None:
    assert messages("iam-role-permissions-boundary", bounded_stack()) == []
    # without a deployer identity a role may go unbounded
    unbounded = [r for r in bounded_stack() if r["name"] == "node"]
    unbounded[0]["inputs"].pop("permissionsBoundary")
    assert messages("iam-role-permissions-boundary", unbounded) == []


def _unbounded(rs: list[dict[str, Any]]) -> None:
    find(rs, "role:Role", "node")["inputs"].pop("permissionsBoundary")


def _admin_boundary(rs: list[dict[str, Any]]) -> None:
    find(rs, "role:Role", "node")["inputs"]["permissionsBoundary"] = (
        "arn:aws:iam::aws:policy/AdministratorAccess"
    )


def _boundary_as_grant(rs: list[dict[str, Any]]) -> None:
    rs.append(res(ATTACH, "grant", {"role": "acme-dev-node", "policyArn": BOUNDARY}))


def _only_runner(rs: list[dict[str, Any]]) -> None:
    rs[:] = [r for r in rs if r["name"] != "ci"]
    find(rs, "role:Role", "node")["inputs"].pop("permissionsBoundary")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _unbounded,
            "Role 'acme-dev-node' has no permissionsBoundary, and the stack has a deployer "
            "identity (acme-dev-deployer, acme-dev-github-actions): every role the deployer can "
            "create or grant to must be capped by a boundary.",
        ),
        (
            _only_runner,  # a CodeBuild deployer alone is a deployer identity too
            "Role 'acme-dev-node' has no permissionsBoundary, and the stack has a deployer "
            "identity (acme-dev-deployer): every role the deployer can create or grant to must "
            "be capped by a boundary.",
        ),
        (
            _admin_boundary,
            "Role 'acme-dev-node' has the administrator-level policy "
            "'arn:aws:iam::aws:policy/AdministratorAccess' as its boundary: that caps nothing.",
        ),
        (
            _boundary_as_grant,
            "Attaches the permissions boundary 'acme-dev-boundary' as a grant (or an ARN that "
            "cannot be told apart from it): a boundary caps roles, it must never give "
            "permissions.",
        ),
    ],
)
def test_iam_role_permissions_boundary_fails(change: Any, message: str) -> None:
    assert messages("iam-role-permissions-boundary", mutated(bounded_stack(), change)) == [message]


def test_a_boundary_is_a_cap_not_a_grant_for_the_wildcard_rules() -> None:
    rs = bounded_stack()
    for policy in ("iam-no-wildcard-actions", "iam-no-wildcard-resource-on-write"):
        assert messages(policy, rs) == []
    # linked by dependency only (a real preview, where the ARN is still unknown): a cap too
    linked = mutated(rs, _boundary_by_dependency)
    assert messages("iam-no-wildcard-actions", linked) == []


def _boundary_by_dependency(rs: list[dict[str, Any]]) -> None:
    cap = find(rs, "policy:Policy")
    for role in [r for r in rs if r["type"] == ROLE]:
        role["inputs"].pop("permissionsBoundary")
        role["propertyDependencies"] = {"permissionsBoundary": [cap["urn"]]}


def _off_the_boundary_path(rs: list[dict[str, Any]]) -> None:
    find(rs, "policy:Policy")["inputs"].pop("path")


def _also_attached(rs: list[dict[str, Any]]) -> None:
    rs.append(res(ATTACH, "grant", {"role": "acme-dev-node", "policyArn": BOUNDARY}))


def _attached_by_dependency(rs: list[dict[str, Any]]) -> None:
    cap = find(rs, "policy:Policy")
    # the ARN unreadable (a secret), the dependency says which policy it is
    rs.append(res(ATTACH, "grant", {"role": "acme-dev-node", "policyArn": "[secret]"},
                  deps={"policyArn": [cap]}))  # fmt: skip


def _attached_by_an_arn_that_cannot_be_told(rs: list[dict[str, Any]]) -> None:
    # no dependency and no readable ARN: it may be the boundary (fail closed)
    rs.append(res(ATTACH, "grant", {"role": "acme-dev-node", "policyArn": {"x": 1}}))


def _used_by_no_role(rs: list[dict[str, Any]]) -> None:
    for role in [r for r in rs if r["type"] == ROLE]:
        role["inputs"]["permissionsBoundary"] = BOUNDARY.replace("acme-dev-boundary", "other")


@pytest.mark.parametrize(
    "change",
    [
        _off_the_boundary_path,
        _also_attached,  # an escape: a grant put under /boundary/ and used as a boundary too
        _attached_by_dependency,
        _attached_by_an_arn_that_cannot_be_told,
        _used_by_no_role,
    ],
)
def test_a_policy_is_read_as_a_boundary_only_when_the_stack_shows_it_is_one(change: Any) -> None:
    assert sorted(messages("iam-no-wildcard-actions", mutated(bounded_stack(), change))) == [
        "policy: statement Cap allows action 'ec2:*'.",
        "policy: statement Cap allows action 's3:*'.",
    ]
    assert messages("iam-no-wildcard-resource-on-write", mutated(bounded_stack(), change)) == [
        "policy: statement Cap allows write action(s) ec2:*, s3:* on Resource '*'."
    ]


def test_request_tags_scope_a_create_on_resource_star() -> None:
    st = {
        "Sid": "CreateKeys",
        "Effect": "Allow",
        "Action": "kms:CreateKey",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestTag/environment": "dev"}},
    }
    assert (
        messages("iam-no-wildcard-resource-on-write", [res(POLICY, "p", {"policy": doc(st)})]) == []
    )
