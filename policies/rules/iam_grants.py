"""What a policy statement grants, and to whom, judged with AWS's action reference
(`iam_actions`) and AWS's evaluation of conditions (`iam_eval`).

The rules of the identity, key and storage areas share these answers:

* `action_findings`: an Allow that names whole services (``*``, ``s3:*``, ``s?:*``), uses
  ``NotAction``, or whose wildcard reaches permissions-management actions;
* `resource_findings`: an Allow whose actions of some access levels (read, or write,
  permissions management and tagging) apply to any resource of their type: ``*``,
  ``arn:aws:s3:::*/*``, ``arn:aws:iam::1:role/*``, or ``NotResource`` — unless a condition
  pins a scoping key (``aws:ResourceTag/team`` to a fixed value, not just mentions it);
* `admitted_accounts`: the accounts whose principals a resource- or trust-policy
  statement admits, conditions included (``aws:PrincipalAccount`` pinned with
  ``StringEquals`` narrows ``Principal: "*"``; ``StringNotEquals`` does not).

Whatever cannot be judged (an unknown action, operator or principal kind, a policy
variable) raises `Unmodelled`, which the rules report as a violation saying so.

Pure Python, no imports of the pack's SDK.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .iam_actions import (
    PERMISSIONS,
    TAGGING,
    WRITE,
    Action,
    covers_whole_services,
    expand,
    statement_actions,
    wildcard_resources,
    with_level,
)
from .iam_eval import (
    RepeatedKeys,
    Unmodelled,
    covers_action,
    pinned_values,
    tests_by_key,
    unique_keys,
)

SECRET = "[secret]"
WRITE_LEVELS = (WRITE, PERMISSIONS, TAGGING)
ACCOUNT_ID = re.compile(r"^\d{12}$")
# condition keys whose fixed value names the caller's (or the calling resource's) account
ACCOUNT_KEYS = ("aws:PrincipalAccount", "kms:CallerAccount", "aws:SourceAccount", "aws:SourceOwner")
ARN_KEYS = ("aws:PrincipalArn", "aws:SourceArn")
SHOWN = 4  # actions named in a message before "and N more"


def plain(value: Any) -> Any:
    """Pulumi's read-only Mapping/Sequence proxies as dicts and lists (the evaluator
    works on JSON shapes); touching an unknown value still raises as it should."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [plain(v) for v in value]
    return value


def read_document(value: Any) -> tuple[dict[str, Any] | None, str | None]:
    """(document, None), or (None, what is wrong); (None, None) when no policy is set."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if value == SECRET:
        return None, "is a secret the plan does not show, so it cannot be checked"
    if isinstance(value, str):
        try:
            value = json.loads(value, object_pairs_hook=unique_keys)
        except RepeatedKeys as exc:
            return None, (
                f"repeats the key(s) {', '.join(exc.args[0])} in one object, so which value "
                "AWS reads cannot be shown"
            )
        except ValueError:
            return None, "is not JSON"
    if not isinstance(value, Mapping):
        return None, f"is a {type(value).__name__}, not a policy document"
    doc = plain(value)
    if "Statement" not in doc:
        return None, "has no Statement"
    items = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    if not all(isinstance(s, dict) for s in items):
        return None, "has a Statement that is not an object"
    doc["Statement"] = items
    return doc, None


def sid(statement: Mapping[str, Any]) -> str:
    return str(statement.get("Sid") or "(no Sid)")


def effect(statement: Mapping[str, Any]) -> str:
    value = statement.get("Effect")
    if value not in ("Allow", "Deny"):
        raise Unmodelled(f"Effect {value!r} is neither Allow nor Deny")
    return str(value)


def named(actions: Iterable[Action | str]) -> str:
    keys = sorted({a if isinstance(a, str) else a.key for a in actions})
    shown = ", ".join(keys[:SHOWN])
    return shown + (f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else "")


def _patterns(statement: Mapping[str, Any], key: str) -> list[str]:
    value = statement.get(key)
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in items):
        raise Unmodelled(f"{key} holds a value that is not a string")
    return [str(v) for v in items]


# ------------------------------------------------------------------ identity policies


def action_findings(statement: Mapping[str, Any]) -> list[str]:
    """What is too broad about an Allow's actions (messages start with a verb)."""
    if effect(statement) != "Allow":
        return []
    if "NotAction" in statement:
        return ["allows NotAction (everything else)."]
    out = []
    for pattern in _patterns(statement, "Action"):
        if covers_whole_services(pattern):
            out.append(f"allows action '{pattern}'.")
        elif "*" in pattern or "?" in pattern:
            powers = with_level(expand(pattern), PERMISSIONS)
            if powers:
                out.append(
                    f"allows '{pattern}', which covers the permissions-management "
                    f"action(s) {named(powers)}: name the actions."
                )
    return out


def scoped(statement: Mapping[str, Any], keys: Iterable[str]) -> list[str]:
    """The scoping condition keys (``keys``; a trailing ``*`` matches a prefix) that the
    statement pins to fixed values."""
    block = statement.get("Condition") or {}
    found = []
    for key in tests_by_key(block):
        for pattern in keys:
            lowered = pattern.lower()
            if key == lowered or (lowered.endswith("*") and key.startswith(lowered[:-1])):
                if pinned_values(block, key):
                    found.append(key)
                break
    return found


def resource_findings(
    statement: Mapping[str, Any],
    levels: Sequence[str],
    scoping_keys: Iterable[str],
    *,
    exclude: Sequence[str] = (),
) -> tuple[list[Action], list[str]]:
    """(actions, resource patterns): the Allow's actions with any of ``levels`` (and none
    of ``exclude``) that apply to any resource of their type, and the patterns that make
    them; ([], []) when the statement names its resources or a condition scopes it.

    An action AWS offers only on ``"*"`` (no resource type) is not reported, except a
    permissions-management one, which must be scoped by a condition.
    """
    if effect(statement) != "Allow":
        return [], []
    actions = [
        a for a in with_level(statement_actions(statement), *levels) if not a.levels & set(exclude)
    ]
    broad: list[Action] = []
    patterns: set[str] = set()
    for action in actions:
        if not action.arn_formats:
            if PERMISSIONS in action.levels and PERMISSIONS in levels:
                broad.append(action)
                patterns.update(
                    _patterns(statement, "Resource") if "Resource" in statement else ["NotResource"]
                )
            continue
        wild = wildcard_resources(statement, action)
        if wild:
            broad.append(action)
            patterns.update(wild)
    if broad and scoped(statement, scoping_keys):
        return [], []
    return broad, sorted(patterns)


def where(patterns: Iterable[str]) -> str:
    shown = [p for p in patterns if p != "NotResource"]
    parts = [f"Resource {', '.join(repr(p) for p in shown)}"] if shown else []
    if "NotResource" in patterns:
        parts.append("NotResource (every resource but those listed)")
    return " and ".join(parts)


# ------------------------------------------------------------------ principals and accounts


def account_of(principal: str) -> str | None:
    """The account of an AWS principal: an account id, or an IAM/STS ARN's account."""
    if ACCOUNT_ID.match(principal):
        return principal
    parts = principal.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and parts[2] in ("iam", "sts"):
        return parts[4] if ACCOUNT_ID.match(parts[4]) else None
    return None


def principal_spec(statement: Mapping[str, Any]) -> dict[str, list[str]] | None:
    """{kind: values} of the statement's Principal; None for everyone (``"*"``, a ``*``
    value of any kind, or ``NotPrincipal``: everyone but a list)."""
    if "NotPrincipal" in statement:
        return None
    spec = statement.get("Principal")
    if spec == "*":
        return None
    if not isinstance(spec, Mapping):
        raise Unmodelled(f"Principal {spec!r} is neither '*' nor an object")
    out: dict[str, list[str]] = {}
    for kind, values in spec.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise Unmodelled(f"Principal kind {kind!r}")
        items = values if isinstance(values, list) else [values]
        if not all(isinstance(v, str) for v in items):
            raise Unmodelled(f"Principal.{kind} holds a value that is not a string")
        if any("*" in v for v in items):
            return None  # AWS accepts no wildcard in a principal but "*" itself
        out[kind] = items
    return out


def pinned_accounts(statement: Mapping[str, Any]) -> set[str] | None:
    """The accounts the Condition pins the caller (or calling resource) to, through
    account or ARN keys with fixed values; None when it pins none. Several pinned keys
    must all hold, so their accounts intersect."""
    block = statement.get("Condition") or {}
    found: set[str] | None = None
    for key in (*ACCOUNT_KEYS, *ARN_KEYS):
        values = pinned_values(block, key)
        if not values:
            continue
        accounts = set()
        for value in values:
            account = value if key in ACCOUNT_KEYS else (value.split(":") + [""] * 5)[4]
            if not ACCOUNT_ID.match(account):
                raise Unmodelled(f"{key} value {value!r} names no account")
            accounts.add(account)
        found = accounts if found is None else found & accounts
    return found


def admitted_accounts(statement: Mapping[str, Any]) -> set[str] | None:
    """The accounts whose AWS principals the statement admits; None for every account."""
    spec = principal_spec(statement)
    pinned = pinned_accounts(statement)
    if spec is None:
        return pinned
    accounts = set()
    for value in spec.get("AWS", []):
        account = account_of(value)
        if account is None:
            raise Unmodelled(f"cannot tell the account of principal {value!r}")
        accounts.add(account)
    return accounts & pinned if pinned is not None else accounts


def allows(statement: Mapping[str, Any], action: str) -> bool:
    """Whether the statement is an Allow whose Action/NotAction covers ``action``."""
    return effect(statement) == "Allow" and covers_action(statement, action)
