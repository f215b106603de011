"""Where a role's permissions come from, gathered once for the rules that evaluate them.

AWS grants a role what its identity policies allow — inline (``aws.iam.RolePolicy``, the
Role's own ``inlinePolicies``) and managed (attached by ``RolePolicyAttachment``,
``PolicyAttachment``'s ``roles``, ``RolePolicyAttachmentsExclusive``, the Role's
``managedPolicyArns``) — and, within one account, what a bucket policy naming it allows.
A rule that shows what a role can or cannot reach reads all of them. What it cannot read
is a reason (`Grants.unreadable`), never an empty grant: an AWS-managed policy (its
document is not in the plan), a customer-managed one the plan does not hold, a document
that is a secret, two bucket policies on one bucket (AWS keeps one).

Pure Python over the pack's resources; no evaluation here (that is `iam_eval`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import PolicyResource, StackValidationArgs

from .common import SECRET, as_list, get, resources_of
from .iam_grants import plain

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")  # their own `policy` input
# type -> (the input naming the role(s), the input naming the managed policies)
ATTACHING: dict[str, tuple[str, str]] = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("role", "policyArn"),
    "aws:iam/policyAttachment:PolicyAttachment": ("roles", "policyArn"),
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": (
        "roleName",
        "policyArns",
    ),
}
TYPES_READ = (ROLE, ROLE_POLICY, POLICY, BUCKET_POLICY, *BUCKETS, *ATTACHING)


@dataclass
class Grants:
    """A role's identity policy documents, and why some of its grants cannot be read."""

    documents: list[Any] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def _role_name(value: Any) -> str:
    """A role input (a name, or an ARN) as the role's name."""
    text = str(value)
    return text.rsplit("/", 1)[-1] if ":role/" in text else text


def _known(value: Any) -> bool:
    """A name the plan shows (not a secret, not unknown during a preview)."""
    return isinstance(value, str) and value != SECRET and not value.startswith("[")


def _readable(document: Any) -> bool:
    return isinstance(plain(document), str | dict) and plain(document) != SECRET


class RoleGrants:
    """Every grant of every role of the plan, and every bucket's policy.

    Roles are told apart by URN: what names a role (a RolePolicy's ``role``, an
    attachment's ``roles``) is resolved through its property dependency on the Role, else by
    the Role's ``name``; a role nothing resolves is not the plan's (`role_of` says None).
    """

    def __init__(self, args: StackValidationArgs) -> None:
        self._policies = resources_of(args, POLICY)
        self._grants: dict[str, Grants] = {}
        roles = resources_of(args, ROLE)
        self._role_urns = {r.urn for r in roles}
        self._by_name = {
            name: r.urn for r in roles if isinstance(name := get(r.props, "name"), str)
        }
        for r in roles:
            grants = self._of(r.urn)
            for i, entry in enumerate(as_list(get(r.props, "inlinePolicies"))):
                self._document(grants, get(entry, "policy"), f"inline policy #{i + 1}")
            self._managed(grants, r, "managedPolicyArns")
        for r in resources_of(args, ROLE_POLICY):
            for key in self._targets(r, "role"):
                self._document(self._of(key), get(r.props, "policy"), f"inline policy {r.name!r}")
        for kind, (roles_prop, arns_prop) in ATTACHING.items():
            for r in resources_of(args, kind):
                for key in self._targets(r, roles_prop):
                    self._managed(self._of(key), r, arns_prop)
        # bucket policies by bucket name; one whose bucket cannot be named is kept aside:
        # it may be any bucket's
        self._buckets: dict[str, list[Any]] = {}
        self._unnamed: list[str] = []
        # a new bucket's id is unknown during a real preview: the policy's dependency on
        # the bucket names it, through the bucket's own `bucket` input
        named = {r.urn: get(r.props, "bucket") for r in resources_of(args, *BUCKETS)}
        for r in resources_of(args, BUCKET_POLICY):
            bucket = get(r.props, "bucket")
            if not _known(bucket):
                deps = [d.urn for d in r.property_dependencies.get("bucket") or []]
                bucket = named.get(deps[0]) if len(deps) == 1 else None
            self._bucket_policy(r, bucket, get(r.props, "policy"))
        for r in resources_of(args, *BUCKETS):
            if get(r.props, "policy") is not None:
                self._bucket_policy(r, get(r.props, "bucket"), get(r.props, "policy"))

    def _bucket_policy(self, r: PolicyResource, bucket: Any, policy: Any) -> None:
        if _known(bucket):
            self._buckets.setdefault(bucket, []).append(policy)
        else:
            self._unnamed.append(f"{r.resource_type.rsplit(':', 1)[-1]} {r.name!r}")

    def _targets(self, r: PolicyResource, prop: str) -> set[str]:
        """Keys of the roles ``r`` names in ``prop``: the Roles it depends on there, and those
        its values name (a name no Role has keys grants no account resolves to)."""
        deps = {d.urn for d in r.property_dependencies.get(prop) or [] if d.urn in self._role_urns}
        named = {
            self._by_name.get(_role_name(name)) or f"?{name}"
            for name in as_list(get(r.props, prop))
        }
        return deps | named

    def role_of(self, role_arn: str, account: PolicyResource) -> str | None:
        """The plan's Role an IRSA annotation names (by name, else the one Role the
        account's metadata depends on); None: not the plan's."""
        urn = self._by_name.get(_role_name(role_arn))
        if urn:
            return urn
        deps = [
            d.urn
            for d in account.property_dependencies.get("metadata") or []
            if d.urn in self._role_urns
        ]
        return deps[0] if len(deps) == 1 else None

    def _of(self, role: str) -> Grants:
        return self._grants.setdefault(role, Grants())

    @staticmethod
    def _document(grants: Grants, document: Any, what: str) -> None:
        if _readable(document):
            grants.documents.append(plain(document))
        else:
            grants.unreadable.append(f"{what} cannot be read")

    def _managed(self, grants: Grants, r: PolicyResource, prop: str) -> None:
        arns = as_list(get(r.props, prop))
        # a real preview does not know a new policy's ARN yet: the dependency names it
        named = [
            p
            for p in self._policies
            if p.urn in {d.urn for d in r.property_dependencies.get(prop) or []}
        ]
        for arn in arns:
            policy = self._by_arn(arn)
            if policy is not None:
                self._document(grants, get(policy.props, "policy"), f"managed policy {arn!r}")
            elif named and not (isinstance(arn, str) and arn.startswith("arn:")):
                for p in named:
                    self._document(grants, get(p.props, "policy"), f"managed policy {p.name!r}")
            else:
                grants.unreadable.append(
                    f"managed policy {arn!r} is not in the plan (AWS-managed, or another "
                    "stack's: its document cannot be read offline)"
                )

    def _by_arn(self, arn: Any) -> PolicyResource | None:
        """The plan's customer-managed policy ``arn`` names (never an AWS-managed ARN: a
        policy of the plan named like one is not it)."""
        if not isinstance(arn, str) or arn.split(":")[4:5] == ["aws"]:
            return None
        for policy in self._policies:
            name, path = get(policy.props, "name"), get(policy.props, "path") or "/"
            if arn == get(policy.props, "arn") or (
                isinstance(name, str) and arn.endswith(f":policy{path}{name}")
            ):
                return policy
        return None

    def of(self, role: str) -> Grants:
        """What ``role`` (a `role_of` key) is granted by its identity policies."""
        return self._grants.get(role, Grants())

    def bucket_policy(self, bucket: str) -> tuple[Any, str | None]:
        """(the bucket's policy document or None, why it cannot be read or None)."""
        if self._unnamed:
            return None, (
                f"{self._unnamed[0]} sets a bucket policy on a bucket the plan does not name "
                f"(it may be {bucket!r}'s)"
            )
        found = self._buckets.get(bucket, [])
        if len(found) > 1:
            return None, (
                f"bucket {bucket!r} has {len(found)} bucket policies set in different places; "
                "AWS keeps one, so which applies cannot be shown"
            )
        if not found:
            return None, None
        if not _readable(found[0]):
            return None, f"the policy of bucket {bucket!r} cannot be read"
        return plain(found[0]), None

    def buckets_naming(self, arns: Iterable[str]) -> set[str]:
        """Buckets whose policy names one of ``arns`` (a principal it may admit)."""
        wanted = set(arns)
        out = set()
        for bucket, docs in self._buckets.items():
            if any(a in str(plain(d)) for d in docs for a in wanted):
                out.add(bucket)
        return out
