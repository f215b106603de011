"""Helpers every rule module shares: safe property access, policy documents, config.

Rules see the resource *inputs* as Pulumi serialises them (camelCase names). A secret
reaches them in plaintext, as under CrossGuard (the offline runner masks it in every
message). A value the plan does not know never reaches them: reading it raises, during a
real preview Pulumi's ``UnknownValueError`` (CrossGuard notes the rule could not run
and the update checks it), offline an error the runner reports as a violation of the
rule saying what it could not see. So "absent" below really means absent.

Values can otherwise be anything a program passes: the access helpers (`get`,
`as_list`, `as_dict`, ...) return "nothing" rather than raising on a value of the
wrong shape, so a rule never crashes on odd input. Where a rule *needs* a value it
cannot read (a policy document that is not JSON), it must say so rather than pass
(`iam_grants.read_document` tells why a document cannot be read).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .iam_eval import unique_keys

SECRET = "[secret]"

ResourceCheck = Callable[[ResourceValidationArgs, ReportViolation], None]
StackCheck = Callable[[StackValidationArgs, ReportViolation], None]


def get(value: Any, *path: str | int) -> Any:
    """Walk ``path`` through nested mappings/lists; None where any step is missing."""
    current = value
    for step in path:
        if isinstance(step, int):
            if not isinstance(current, Sequence) or isinstance(current, str):
                return None
            if step >= len(current):
                return None
            current = current[step]
        else:
            if not isinstance(current, Mapping):
                return None
            current = current.get(step)
        if current is None:
            return None
    return current


def as_list(value: Any) -> list[Any]:
    """A scalar as a one-element list, a list as itself, None as []."""
    if value is None:
        return []
    # Pulumi hands rules read-only Sequence/Mapping proxies, not list/dict
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def as_dict(value: Any) -> Mapping[str, Any]:
    """A mapping as itself, anything else (secret, None, unknown) as {}."""
    return value if isinstance(value, Mapping) else {}


def is_true(value: Any) -> bool:
    """True for ``True`` and the string ``"true"`` (some providers take strings)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def as_int(value: Any) -> int | None:
    """An int from an int or a numeric string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def policy_document(value: Any) -> Mapping[str, Any] | None:
    """An IAM/S3 policy document from a JSON string or a dict; None when unreadable."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str) and value != SECRET:
        try:
            doc = json.loads(value, object_pairs_hook=unique_keys)
        except ValueError:
            return None
        return doc if isinstance(doc, Mapping) else None
    return None


def statements(doc: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The statements of a policy document (a single statement object counts as one)."""
    if doc is None:
        return []
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, Mapping)]


def principals(statement: Mapping[str, Any], kind: str | None = None) -> list[str]:
    """Principal values of a statement; ``"*"`` for the anonymous principal."""
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if not isinstance(principal, Mapping):
        return []
    out: list[str] = []
    for key, values in principal.items():
        if kind is None or key == kind:
            out.extend(str(v) for v in as_list(values))
    return out


def aws_managed_key(key: str) -> bool:
    """An AWS-managed KMS key (``alias/aws/<service>``, by name or alias ARN): its policy is
    AWS's, letting every principal of the account use it through the service, so it is no
    customer-managed key."""
    return key.startswith("alias/aws/") or ":alias/aws/" in key


def customer_key_problem(key: Any) -> str | None:
    """Why ``key`` (a KMS key id, ARN or alias) is not shown to be customer-managed, or
    None: absent, not a string the plan shows, or an AWS-managed alias."""
    if key is None or key == "":
        return "no key is set, so AWS uses its AWS-managed key"
    if not isinstance(key, str) or key == SECRET:
        return "the key is not an id, ARN or alias the plan shows"
    if aws_managed_key(key):
        return f"'{key}' is an AWS-managed key"
    return None


def tags_of(props: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``tags`` input as a mapping ({} when absent or secret)."""
    return as_dict(props.get("tags"))


def config(args: ResourceValidationArgs | StackValidationArgs, key: str, default: Any) -> Any:
    """A policy config property, or ``default`` when the pack config does not set it.

    The Pulumi CLI fills schema defaults in some versions and not in others, so every
    rule carries its own default too.
    """
    value = args.get_config().get(key)
    return default if value is None else value


# The resource types each rule reads, by rule name (resource policies register theirs;
# a stack policy names its with ``types=``): what `resource-type-known` counts as checked.
TYPES_READ: dict[str, frozenset[str]] = {}


def resources_of(args: StackValidationArgs, *types: str) -> list[PolicyResource]:
    """The stack's resources of the given types, in the order Pulumi gave them."""
    return [r for r in args.resources if r.resource_type in types]


def _schema(properties: Mapping[str, Mapping[str, Any]] | None) -> PolicyConfigSchema | None:
    if not properties:
        return None
    return PolicyConfigSchema(properties={k: dict(v) for k, v in properties.items()})


def resource_policy(
    name: str,
    description: str,
    types: Iterable[str] | None,
    check: Callable[[ResourceValidationArgs, ReportViolation], None],
    *,
    schema: Mapping[str, Mapping[str, Any]] | None = None,
    remediation: str | None = None,
) -> ResourceValidationPolicy:
    """A mandatory-by-default resource policy that only looks at ``types``.

    Args:
        name: Kebab-case policy name.
        description: One sentence, shown with every violation.
        types: Pulumi type tokens the check applies to; None for every type.
        check: Called with the args of matching resources only.
        schema: Config properties (JSON schema per property).
        remediation: How to fix a violation.
    """
    wanted = None if types is None else frozenset(types)
    if wanted is not None:
        TYPES_READ[name] = wanted

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if wanted is None or args.resource_type in wanted:
            check(args, report)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_schema(schema),
        remediation_steps=remediation,
    )


def stack_policy(
    name: str,
    description: str,
    check: StackCheck,
    *,
    schema: Mapping[str, Mapping[str, Any]] | None = None,
    remediation: str | None = None,
    types: Iterable[str] | None = None,
) -> StackValidationPolicy:
    """A mandatory-by-default stack policy (see `resource_policy`); ``types`` names the
    resource types it reads (for `resource-type-known`)."""
    if types is not None:
        TYPES_READ[name] = frozenset(types)
    return StackValidationPolicy(
        name=name,
        description=description,
        validate=check,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_schema(schema),
        remediation_steps=remediation,
    )
