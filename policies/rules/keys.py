"""Keys and secrets: KMS key policies and secret policies stay inside the stack's account;
secrets are encrypted with a customer-managed key.

A key or secret policy statement is judged by whom it admits, with AWS's evaluation of
its conditions (`iam_grants.admitted_accounts`): ``Principal: "*"`` counts as the accounts
a fixed ``aws:PrincipalAccount``, ``kms:CallerAccount`` or ``aws:PrincipalArn`` pins it to,
else as everyone; an AWS service principal must be pinned to a source (``aws:SourceAccount``,
``aws:SourceArn`` or a KMS encryption context) so that it acts for this account only.

The stack's own account comes from the rule's ``account_ids``. Without it, a key policy
still shows it: AWS refuses a key policy that would lock out the account creating the key
(unless ``bypassPolicyLockoutSafetyCheck``, itself refused here), so the one account a key
policy names is the key's own, and a policy naming two accounts grants to a foreign one.
A secret's policy has no such check: its own account is the one its ARN shows (a
SecretPolicy's ``secretArn``) or ``account_ids``; any other account it names is foreign.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Policy, ReportViolation, ResourceValidationArgs

from .common import as_dict, as_list, aws_managed_key, config, is_true, resource_policy
from .iam_eval import Unmodelled
from .iam_grants import (
    account_of,
    admitted_accounts,
    effect,
    pinned_accounts,
    principal_spec,
    read_document,
    scoped,
    sid,
)

KEY_POLICY_PROPS = {
    "aws:kms/key:Key": "policy",
    "aws:kms/keyPolicy:KeyPolicy": "policy",
    "aws:kms/replicaKey:ReplicaKey": "policy",
    "aws:kms/externalKey:ExternalKey": "policy",
    "aws:kms/replicaExternalKey:ReplicaExternalKey": "policy",
}
GRANT = "aws:kms/grant:Grant"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
# conditions that tie an AWS service principal to this account's resources
SOURCE_KEYS = ("aws:SourceAccount", "aws:SourceArn", "kms:EncryptionContext:*", "kms:CallerAccount")
ACCOUNT_SCHEMA = {
    "account_ids": {
        "type": "array",
        "items": {"type": "string", "pattern": "^[0-9]{12}$"},
        "default": [],
        "description": "The stack's own AWS accounts (and accounts it shares with on purpose).",
    }
}


def _actions(st: Mapping[str, Any]) -> str:
    if "NotAction" in st:
        return f"everything but {as_list(st['NotAction'])}"
    return ", ".join(str(a) for a in as_list(st.get("Action")))


def _named_accounts(doc: Mapping[str, Any]) -> set[str]:
    """Every account a policy's Allow statements name (principals and pinned conditions)."""
    found: set[str] = set()
    for st in doc["Statement"]:
        try:
            if effect(st) != "Allow":
                continue
            found |= admitted_accounts(st) or set()
            found |= pinned_accounts(st) or set()
        except Unmodelled:
            continue
    return found


def outsider_grants(
    doc: Mapping[str, Any], own: set[str], what: str, *, lockout_check: bool = True
) -> Iterator[str]:
    """Messages for each Allow in ``doc`` that admits a principal outside ``own``; with no
    ``own``, the one account a key policy names is taken as its own (AWS's lockout check:
    see module doc). Other policies (``lockout_check=False``: a secret's) have no such
    check, so an account they name is foreign unless ``own`` lists it."""
    if not own and lockout_check:
        named = _named_accounts(doc)
        if len(named) > 1:
            yield (
                f"The {what} policy grants to several accounts ({', '.join(sorted(named))}); "
                "only one is this stack's: list the stack's accounts in account_ids."
            )
            return
        own = named
    for st in doc["Statement"]:
        try:
            if effect(st) != "Allow":
                continue
            spec = principal_spec(st)
            accounts = admitted_accounts(st)
            sources = pinned_accounts(st)
            services = (spec or {}).get("Service", [])
            others = sorted(set(spec or {}) - {"AWS", "Service"})
        except Unmodelled as exc:
            yield f"Statement {sid(st)} cannot be judged: {exc}."
            continue
        if accounts is None:
            yield (
                f"Statement {sid(st)} allows {_actions(st)} to every principal ('*') "
                "without a fixed aws:PrincipalAccount, kms:CallerAccount or "
                "aws:PrincipalArn of this account."
            )
            continue
        foreign = sorted(accounts - own)
        if foreign and not own:
            yield (
                f"Statement {sid(st)} allows {_actions(st)} to account(s) "
                f"{', '.join(foreign)}, which the rule cannot tell are this stack's: list "
                "the stack's accounts in account_ids."
            )
        elif foreign:
            yield (
                f"Statement {sid(st)} allows {_actions(st)} to account(s) "
                f"{', '.join(foreign)}, outside this stack's account "
                f"({', '.join(sorted(own))})."
            )
        if others:
            yield (
                f"Statement {sid(st)} allows {_actions(st)} to {', '.join(others)} "
                "principals, which belong to no account of this stack."
            )
        if services and sources is not None and sources - own:
            yield (
                f"Statement {sid(st)} lets {', '.join(services)} use it for account(s) "
                f"{', '.join(sorted(sources - own))}, outside this stack's account."
            )
        elif services:
            try:
                pinned = scoped(st, SOURCE_KEYS)
            except Unmodelled as exc:
                yield f"Statement {sid(st)} cannot be judged: {exc}."
                continue
            if not pinned:
                yield (
                    f"Statement {sid(st)} lets {', '.join(services)} use it for any "
                    "account: pin aws:SourceAccount, aws:SourceArn or the encryption "
                    "context to this account's resources."
                )


def _own(args: ResourceValidationArgs) -> set[str]:
    return {str(a) for a in as_list(config(args, "account_ids", []))}


def _check_key_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == GRANT:
        _check_grant(args, report)
        return
    if is_true(args.props.get("bypassPolicyLockoutSafetyCheck")):
        report(
            "bypassPolicyLockoutSafetyCheck is on: the key policy may lock this account "
            "out of its own key.",
            None,
        )
    doc, problem = read_document(args.props.get(KEY_POLICY_PROPS[args.resource_type]))
    if problem is not None:
        report(f"The key policy {problem}.", None)
    if doc is not None:
        for message in outsider_grants(doc, _own(args), "key"):
            report(message, None)


def _check_grant(args: ResourceValidationArgs, report: ReportViolation) -> None:
    own = _own(args)
    for prop in ("granteePrincipal", "retiringPrincipal"):
        value = args.props.get(prop)
        if value is None:
            continue
        account = account_of(value) if isinstance(value, str) else None
        if account is None and isinstance(value, str) and value.endswith(".amazonaws.com"):
            continue  # a service principal
        if account is None:
            report(f"Grant {prop} {value!r} names no account the rule can see.", None)
        elif not own:
            report(
                f"Grant {prop} is in account {account}: list the stack's accounts in "
                "account_ids so that the rule can tell it is this stack's.",
                None,
            )
        elif account not in own:
            report(
                f"Grant gives {prop} to account {account}, outside this stack's account "
                f"({', '.join(sorted(own))}).",
                None,
            )


def _check_secret_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    doc, problem = read_document(args.props.get("policy"))
    if problem is not None:
        report(f"The secret's resource policy {problem}.", None)
    if doc is not None:
        # AWS checks no lockout on a secret's policy: the account it names may be any
        # account. The secret's own is the one its ARN shows (a SecretPolicy's secretArn).
        own = _own(args)
        parts = str(args.props.get("secretArn") or "").split(":")
        if (
            len(parts) >= 7
            and parts[:1] + parts[2:3] == ["arn", "secretsmanager"]
            and account_of(parts[4]) is not None
        ):
            own.add(parts[4])
        for message in outsider_grants(doc, own, "secret", lockout_check=False):
            report(message, None)


def _check_secret_cmk(args: ResourceValidationArgs, report: ReportViolation) -> None:
    places = [("kmsKeyId", args.props.get("kmsKeyId"))]
    for i, replica in enumerate(as_list(args.props.get("replicas"))):
        places.append((f"replicas[{i}].kmsKeyId", as_dict(replica).get("kmsKeyId")))
    for where, key in places:
        if key is None or key == "":
            report(
                f"{where} is not set: Secrets Manager then uses the AWS-managed key "
                "aws/secretsmanager, whose policy this stack cannot scope.",
                None,
            )
        elif not isinstance(key, str) or key == "[secret]":
            report(f"{where} is not a key id or ARN the plan shows.", None)
        elif aws_managed_key(key):
            report(f"{where} '{key}' is an AWS-managed key, not a customer-managed one.", None)


POLICIES: list[Policy] = [
    resource_policy(
        "kms-key-policy-account-only",
        "KMS key policies and grants allow nothing to principals outside the stack's "
        "account, to '*' unpinned, or to AWS services unpinned to a source.",
        (*KEY_POLICY_PROPS, GRANT),
        _check_key_policy,
        schema=ACCOUNT_SCHEMA,
        remediation="Grant to the account's root or named roles; pin '*' with StringEquals "
        "kms:CallerAccount; pin service principals with aws:SourceArn or the encryption "
        "context.",
    ),
    resource_policy(
        "secretsmanager-secret-policy-account-only",
        "Secrets Manager resource policies allow nothing to principals outside the stack's "
        "account.",
        (SECRET, SECRET_POLICY),
        _check_secret_policy,
        schema=ACCOUNT_SCHEMA,
        remediation="Grant to named roles of the account; pin '*' with aws:PrincipalAccount.",
    ),
    resource_policy(
        "secretsmanager-secret-cmk",
        "Secrets (and their replicas) are encrypted with a customer-managed KMS key.",
        (SECRET,),
        _check_secret_cmk,
        remediation="Set kms_key_id to the ARN of a customer-managed key (one per data "
        "store, as the platform's databases do).",
    ),
]
