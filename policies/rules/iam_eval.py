"""AWS's policy evaluation for one request, for the parts of IAM this platform uses.

`decide` answers what AWS answers for a request within one account: an explicit Deny in
any policy wins; otherwise an Allow in the identity policies or in the resource's policy
allows; otherwise the request is implicitly denied. Statements match on Action/NotAction
(service prefix case-insensitive, `*` and `?` wildcards), Resource/NotResource (ARN
globs), Principal/NotPrincipal (resource and trust policies) and every Condition block.

Conditions are evaluated as AWS documents them: a condition key the request does not
carry makes a positive operator false and a negated operator (`...Not...`) true,
`...IfExists` true, `Null` tests presence; multi-valued keys take `ForAnyValue:` /
`ForAllValues:`. What this module does not model — an unknown operator, a policy
variable such as `${aws:username}`, an element it cannot read — raises `Unmodelled`, so
a caller refuses instead of guessing (fail closed).

Pure Python, no imports of the pack's SDK: the platform's tests use it as well.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

Value = str | bool | int | float | Sequence[str] | None
Effect = Literal["allow", "deny", "implicit-deny"]


class Unmodelled(ValueError):
    """A policy element the evaluator cannot decide: refuse rather than guess."""


@dataclass(frozen=True)
class Request:
    """One API call as AWS authorizes it.

    Attributes:
        action: ``service:Action`` (HeadBucket is authorized as ``s3:ListBucket``).
        resource: The ARN the action targets.
        context: The condition keys the request carries (absent key: not carried).
        principal: Who calls, for resource and trust policies: ``{"AWS": arn}``,
            ``{"Federated": arn}`` or ``{"Service": name}``.
    """

    action: str
    resource: str
    context: Mapping[str, Value] = field(default_factory=dict)
    principal: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    effect: Effect
    statement: Mapping[str, Any] | None = None  # the statement that decided, if any

    @property
    def allowed(self) -> bool:
        return self.effect == "allow"


class RepeatedKeys(ValueError):
    """A JSON object with one key twice: Python keeps the last value, another parser may
    keep the first, so a rule reading one could pass what AWS enforces as the other. A
    policy document with one is unreadable (fail closed)."""


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``'s object_pairs_hook refusing a repeated key (`RepeatedKeys`)."""
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise RepeatedKeys(sorted({k for k in keys if keys.count(k) > 1}))
    return dict(pairs)


def document(policy: str | Mapping[str, Any]) -> dict[str, Any]:
    """A policy as a dict, from its JSON text or a dict."""
    if isinstance(policy, str):
        try:
            doc = json.loads(policy, object_pairs_hook=unique_keys)
        except ValueError as exc:
            raise Unmodelled(f"policy is not JSON ({exc})") from None
    else:
        doc = dict(policy)
    if not isinstance(doc, dict) or "Statement" not in doc:
        raise Unmodelled("policy has no Statement")
    return doc


def statements(policy: str | Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = document(policy)["Statement"]
    items = raw if isinstance(raw, list) else [raw]
    if not all(isinstance(s, dict) for s in items):
        raise Unmodelled("a Statement is not an object")
    return items


def decide(
    request: Request,
    identity_policies: Iterable[str | Mapping[str, Any]] = (),
    resource_policy: str | Mapping[str, Any] | None = None,
    *,
    possible: bool = False,
) -> Decision:
    """What AWS decides for ``request`` (same account: identity or resource Allow).

    ``possible``: whether AWS could allow it, for a check that a request is refused. The
    request's context then fixes only the keys it names (None: absent); a key it does not
    name may carry any value, as a real request carries ``aws:SecureTransport``,
    ``aws:PrincipalArn``, ``aws:PrincipalAccount``, ``aws:RequestedRegion`` and more. An
    Allow counts when some such value satisfies its conditions, a Deny only when every one
    does: a grant is never hidden behind a condition the probe did not think of.
    """
    allow: Mapping[str, Any] | None = None
    sources: list[tuple[str | Mapping[str, Any], bool]] = [(p, False) for p in identity_policies]
    if resource_policy is not None:
        sources.append((resource_policy, True))
    for policy, with_principal in sources:
        for statement in statements(policy):
            effect = statement.get("Effect")
            if possible:
                if not matches(statement, request, with_principal=with_principal, conditions=False):
                    continue
                block = statement.get("Condition") or {}
                if not _resolve(block, request.context, every=effect == "Deny"):
                    continue
            elif not matches(statement, request, with_principal=with_principal):
                continue
            if effect == "Deny":
                return Decision("deny", statement)
            if effect != "Allow":
                raise Unmodelled(f"Effect {effect!r} is neither Allow nor Deny")
            allow = allow or statement
    return Decision("allow", allow) if allow else Decision("implicit-deny")


def matches(
    statement: Mapping[str, Any], request: Request, *, with_principal: bool, conditions: bool = True
) -> bool:
    """Whether ``statement`` applies to ``request`` (``conditions=False``: its Condition
    block aside)."""
    if not _either(statement, "Action", "NotAction", request.action, _action_matches):
        return False
    if "Resource" in statement or "NotResource" in statement:
        if not _either(statement, "Resource", "NotResource", request.resource, _arn_matches):
            return False
    elif not with_principal:
        raise Unmodelled("an identity policy statement has neither Resource nor NotResource")
    if with_principal and not _principal_matches(statement, request.principal):
        return False
    return not conditions or conditions_hold(statement.get("Condition") or {}, request.context)


def covers_action(statement: Mapping[str, Any], action: str) -> bool:
    """Whether the statement's Action (or NotAction) covers ``action``."""
    return bool(_either(statement, "Action", "NotAction", action, _action_matches))


def covers_resource(statement: Mapping[str, Any], arn: str) -> bool:
    """Whether the statement's Resource (or NotResource) covers ``arn``."""
    return bool(_either(statement, "Resource", "NotResource", arn, _arn_matches))


def _either(statement: Mapping[str, Any], key: str, negated: str, value: str, test: Any) -> bool:
    if key in statement and negated in statement:
        raise Unmodelled(f"a statement has both {key} and {negated}")
    if key in statement:
        return any(test(pattern, value) for pattern in _as_list(statement[key], key))
    if negated in statement:
        return not any(test(pattern, value) for pattern in _as_list(statement[negated], negated))
    raise Unmodelled(f"a statement has neither {key} nor {negated}")


def _as_list(value: Any, what: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in items):
        raise Unmodelled(f"{what} holds a value that is not a string")
    return items


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    if "${" in pattern:
        raise Unmodelled(f"policy variable in {pattern!r}")
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{regex}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _action_matches(pattern: str, action: str) -> bool:
    if pattern == "*":
        return True
    if ":" not in pattern:
        raise Unmodelled(f"action {pattern!r} has no service prefix")
    return bool(_glob(pattern, True).match(action))


def _arn_matches(pattern: str, arn: str) -> bool:
    return bool(_glob(pattern, False).match(arn))


def _principal_matches(statement: Mapping[str, Any], principal: Mapping[str, str]) -> bool:
    if "Principal" in statement and "NotPrincipal" in statement:
        raise Unmodelled("a statement has both Principal and NotPrincipal")
    if "NotPrincipal" in statement:
        return not _principal_in(statement["NotPrincipal"], principal)
    if "Principal" not in statement:
        raise Unmodelled("a resource or trust policy statement has no Principal")
    return _principal_in(statement["Principal"], principal)


def _principal_in(spec: Any, principal: Mapping[str, str]) -> bool:
    if spec == "*":
        return True
    if not isinstance(spec, dict):
        raise Unmodelled(f"Principal {spec!r} is neither '*' nor an object")
    for kind, values in spec.items():
        if kind not in ("AWS", "Federated", "Service", "CanonicalUser"):
            raise Unmodelled(f"Principal kind {kind!r}")
        caller = principal.get(kind)
        if caller is None:
            continue
        for value in _as_list(values, f"Principal.{kind}"):
            if value == "*" or value == caller:
                return True
            # an account id or root ARN stands for every principal of the account
            account = caller.split(":")[4] if caller.count(":") >= 5 else None
            if kind == "AWS" and account and value in (account, f"arn:aws:iam::{account}:root"):
                return True
    return False


# ------------------------------------------------------------------ conditions


def conditions_hold(block: Mapping[str, Any], context: Mapping[str, Value]) -> bool:
    """Every operator, every key of the Condition block holds for ``context``."""
    if not isinstance(block, Mapping):
        raise Unmodelled("Condition is not an object")
    lowered = {k.lower(): v for k, v in context.items()}
    for operator, tests in block.items():
        if not isinstance(tests, Mapping):
            raise Unmodelled(f"Condition {operator} is not an object")
        for key, expected in tests.items():
            if not _holds(operator, key, expected, lowered):
                return False
    return True


_STRING = {
    "StringEquals": (False, False),
    "StringNotEquals": (True, False),
    "StringEqualsIgnoreCase": (False, True),
    "StringNotEqualsIgnoreCase": (True, True),
    "StringLike": (False, False),
    "StringNotLike": (True, False),
    "ArnEquals": (False, False),
    "ArnLike": (False, False),
    "ArnNotEquals": (True, False),
    "ArnNotLike": (True, False),
}
_NEGATED = {
    *(name for name, (negated, _) in _STRING.items() if negated),
    "NumericNotEquals",
    "DateNotEquals",
    "NotIpAddress",
}
_NUMERIC = {
    "NumericEquals": lambda a, b: a == b,
    "NumericNotEquals": lambda a, b: a != b,
    "NumericLessThan": lambda a, b: a < b,
    "NumericLessThanEquals": lambda a, b: a <= b,
    "NumericGreaterThan": lambda a, b: a > b,
    "NumericGreaterThanEquals": lambda a, b: a >= b,
}
_DATE = {
    "DateEquals": lambda a, b: a == b,
    "DateNotEquals": lambda a, b: a != b,
    "DateLessThan": lambda a, b: a < b,
    "DateLessThanEquals": lambda a, b: a <= b,
    "DateGreaterThan": lambda a, b: a > b,
    "DateGreaterThanEquals": lambda a, b: a >= b,
}


def _holds(operator: str, key: str, expected: Any, context: Mapping[str, Value]) -> bool:
    qualifier, _, name = operator.rpartition(":")
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise Unmodelled(f"condition operator {operator!r}")
    if_exists = name.endswith("IfExists")
    base = name.removesuffix("IfExists")
    wanted = expected if isinstance(expected, list) else [expected]
    present = key.lower() in context and context[key.lower()] is not None
    if base == "Null":
        if if_exists or qualifier:
            raise Unmodelled(f"condition operator {operator!r}")
        return all(_boolean(w) != present for w in wanted)
    negated = base in _NEGATED
    if not present:
        if if_exists or qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return bool(negated)
    actual = context[key.lower()]
    values = list(actual) if isinstance(actual, list | tuple) else [actual]
    if not qualifier and len(values) != 1:
        raise Unmodelled(f"{key} has several values; {operator} needs ForAnyValue/ForAllValues")

    def one(value: Any) -> bool:
        return _compare(base, value, wanted, operator)

    if qualifier == "ForAnyValue":
        return any(one(v) for v in values)
    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    return one(values[0])


def _compare(base: str, value: Any, wanted: list[Any], operator: str) -> bool:
    if base in _STRING:
        negated, ignore_case = _STRING[base]
        like = base.startswith(("StringLike", "StringNotLike", "Arn"))
        text = str(value)
        hit = any(
            _glob(str(w), ignore_case).match(text) if like else _equal(str(w), text, ignore_case)
            for w in wanted
        )
        return not hit if negated else hit
    if base in _NUMERIC:
        try:
            number, limits = float(value), [float(w) for w in wanted]
        except (TypeError, ValueError):
            raise Unmodelled(f"{operator} on a value that is not a number") from None
        if base == "NumericNotEquals":
            return all(number != limit for limit in limits)
        return any(_NUMERIC[base](number, limit) for limit in limits)
    if base in _DATE:
        stamp = _date(value, operator)
        if base == "DateNotEquals":
            return all(stamp != _date(w, operator) for w in wanted)
        return any(_DATE[base](stamp, _date(w, operator)) for w in wanted)
    if base == "Bool":
        return any(_boolean(value) == _boolean(w) for w in wanted)
    if base in ("IpAddress", "NotIpAddress"):
        try:
            address = ipaddress.ip_address(str(value))
            inside = any(address in ipaddress.ip_network(str(w), strict=False) for w in wanted)
        except ValueError:
            raise Unmodelled(f"{operator} on a value that is not an IP address") from None
        return inside if base == "IpAddress" else not inside
    raise Unmodelled(f"condition operator {operator!r}")


def _equal(expected: str, actual: str, ignore_case: bool) -> bool:
    if "${" in expected:
        raise Unmodelled(f"policy variable in {expected!r}")
    return expected.lower() == actual.lower() if ignore_case else expected == actual


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise Unmodelled(f"{value!r} is not a boolean")


def _date(value: Any, operator: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Unmodelled(f"{operator} on {value!r}, which is not a date") from None


# ------------------------------------------------------------------ what a condition pins
#
# Rules ask two questions of a Condition block, and answer both with the evaluator above
# rather than by looking for key names (a key can be present under an operator that
# admits anyone: `StringNotEquals aws:SourceVpce`, `StringEqualsIfExists`, `Null`,
# `ForAllValues:` on an absent key, `StringLike "*"`):
#
# * `pinned_values`: does the block admit a request only when ``key`` carries one of a
#   few fixed values (AWS's "fixed value": no wildcard, no policy variable), and which?
# * `holds_whatever_else`: does the block hold for a request carrying ``context``,
#   whatever the request carries in the other keys the block tests?
#
# Tests on different keys are independent, so each key is probed on its own: absent, an
# unguessable value, and the values the policy itself names.

_ABSENT = object()
_PROBE = "zq-probe-value"
_FAMILIES = {
    **dict.fromkeys(_STRING, "string"),
    **dict.fromkeys(_NUMERIC, "numeric"),
    **dict.fromkeys(_DATE, "date"),
    "Bool": "bool",
    "IpAddress": "ip",
    "NotIpAddress": "ip",
    "Null": "null",
}
_POSITIVE = {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike"}
# the broadest IP ranges that still count as "a set of CIDRs" (not the internet)
_MIN_PREFIX = {4: 8, 6: 32}


def _base(operator: str) -> tuple[str, str, bool]:
    qualifier, _, name = operator.rpartition(":")
    return qualifier, name.removesuffix("IfExists"), name.endswith("IfExists")


def tests_by_key(block: Mapping[str, Any]) -> dict[str, list[tuple[str, str, Any]]]:
    """The Condition block's tests grouped by key (lower-cased): (operator, key, value)."""
    if not isinstance(block, Mapping):
        raise Unmodelled("Condition is not an object")
    out: dict[str, list[tuple[str, str, Any]]] = {}
    for operator, tests in block.items():
        if not isinstance(tests, Mapping):
            raise Unmodelled(f"Condition {operator} is not an object")
        for key, expected in tests.items():
            out.setdefault(str(key).lower(), []).append((str(operator), str(key), expected))
    return out


def _family(tests: list[tuple[str, str, Any]]) -> str:
    families = set()
    for operator, _, _ in tests:
        _, base, _ = _base(operator)
        if base not in _FAMILIES:
            raise Unmodelled(f"condition operator {operator!r}")
        families.add(_FAMILIES[base])
    families.discard("null")
    if len(families) > 1:
        raise Unmodelled(f"one key is tested as {' and '.join(sorted(families))}")
    return families.pop() if families else "string"


def _key_holds(tests: list[tuple[str, str, Any]], value: Any) -> bool:
    context: dict[str, Value] = {}
    if value is not _ABSENT:
        context[tests[0][1].lower()] = value
    return all(conditions_hold({op: {key: expected}}, context) for op, key, expected in tests)


def _expected(tests: list[tuple[str, str, Any]]) -> list[str]:
    return [
        str(v)
        for _, _, expected in tests
        for v in (expected if isinstance(expected, list) else [expected])
    ]


def _fill(value: str) -> str:
    return value.replace("*", "zq").replace("?", "q")


def _candidates(tests: list[tuple[str, str, Any]]) -> list[Any]:
    family = _family(tests)
    literals = _expected(tests)
    if family == "bool":
        return [True, False]
    if family == "numeric":
        numbers = []
        for literal in literals:
            try:
                number = float(literal)
            except ValueError:
                raise Unmodelled(f"{literal!r} is not a number") from None
            numbers += [number - 1, number, number + 1]
        return [*numbers, 0.0, 1e12]
    if family == "date":
        return [*literals, "1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z"]
    if family == "ip":
        hosts = []
        for literal in literals:
            try:
                network = ipaddress.ip_network(literal, strict=False)
            except ValueError:
                raise Unmodelled(f"{literal!r} is not an IP range") from None
            hosts.append(str(network.network_address))
        return [*hosts, "192.0.2.1", "198.51.100.1", "2001:db8::1"]
    return [_PROBE, *(_fill(v) for v in literals)]


def _one(value: Any, tests: list[tuple[str, str, Any]]) -> Any:
    # a multi-valued key (ForAnyValue:/ForAllValues:) carries a list
    return [value] if any(":" in op for op, _, _ in tests) else value


def pinned_values(block: Mapping[str, Any], key: str) -> list[str]:
    """The fixed values the block pins ``key`` to; [] when it admits a request whose
    ``key`` is absent or has a value the policy does not name, or names it only with a
    wildcard or a policy variable.

    For ``aws:SourceIp`` (IP operators) the values are the CIDRs of ``IpAddress`` tests,
    each no broader than /8 (IPv4) or /32 (IPv6); any ``NotIpAddress`` pins nothing.
    """
    tests = tests_by_key(block).get(key.lower())
    if not tests or _key_holds(tests, _ABSENT):
        return []
    family = _family(tests)
    if family == "ip":
        return _pinned_networks(tests)
    if family != "string" or _key_holds(tests, _one(_PROBE, tests)):
        return []
    fixed = []
    for operator, _, expected in tests:
        _, base, _ = _base(operator)
        if base not in _POSITIVE:
            continue
        for value in expected if isinstance(expected, list) else [expected]:
            text = str(value)
            if any(c in text for c in "*?") or "${" in text:
                return []  # a pattern is not a fixed value
            if _key_holds(tests, _one(text, tests)):
                fixed.append(text)
    return sorted(set(fixed))


def _pinned_networks(tests: list[tuple[str, str, Any]]) -> list[str]:
    networks = []
    for operator, _, expected in tests:
        qualifier, base, if_exists = _base(operator)
        if base != "IpAddress" or qualifier or if_exists:
            return []
        for value in expected if isinstance(expected, list) else [expected]:
            try:
                network = ipaddress.ip_network(str(value), strict=False)
            except ValueError:
                raise Unmodelled(f"{value!r} is not an IP range") from None
            if network.prefixlen < _MIN_PREFIX[network.version]:
                return []
            networks.append(str(network))
    return sorted(set(networks))


def _resolve(block: Mapping[str, Any], context: Mapping[str, Value | None], *, every: bool) -> bool:
    """Whether the block holds for a request carrying ``context`` (None: the key is absent)
    and, in each key the context does not name, for some value (``every``: for every value,
    or none)."""
    given = {k.lower(): v for k, v in context.items()}
    for key, tests in tests_by_key(block).items():
        if key in given:
            if not _key_holds(tests, _ABSENT if given[key] is None else given[key]):
                return False
            continue
        outcomes = (
            _key_holds(tests, c if c is _ABSENT else _one(c, tests))
            for c in [_ABSENT, *_candidates(tests)]
        )
        if not (all(outcomes) if every else any(outcomes)):
            return False
    return True


def holds_whatever_else(block: Mapping[str, Any], context: Mapping[str, Value]) -> bool:
    """True when the block holds for a request carrying ``context`` whatever that
    request carries (or not) in every other key the block tests."""
    given = {k.lower(): v for k, v in context.items()}
    for key, tests in tests_by_key(block).items():
        if key in given:
            if not _key_holds(tests, given[key]):
                return False
            continue
        for candidate in [_ABSENT, *_candidates(tests)]:
            value = candidate if candidate is _ABSENT else _one(candidate, tests)
            if not _key_holds(tests, value):
                return False
    return True
