"""Evaluate the pack offline on a planned stack: the validate functions Pulumi would call.

Runs in the pack's own environment (``.venv-policy``)::

    .venv-policy/bin/python policies/offline.py < payload.json

Input (stdin)::

    {"environment": "prod",
     "config": {<pack config, the format of --policy-pack-config>},
     "resources": [<the "resources" of `mlops plan --json`>],
     "preview": false}

Inputs are in the form the Pulumi engine hands an analyzer: a secret is an envelope
(``{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": ...}``)
and the rules see its plaintext, as under CrossGuard; no message ever shows it (each
secret value is masked as ``[secret]`` in the output). A value the plan does not know
fails closed: the literal placeholder ``[secret]`` (a ``secure:`` stack value the offline
plan cannot decrypt) and, unless ``preview`` is true, Pulumi's unknown sentinels. A rule
that reads one reports, at its own level, what it could not see. With ``"preview": true``
(a plan from a real ``pulumi preview``) unknowns keep CrossGuard's behaviour: the rule
is not decided and an advisory note says so (the update checks it again).

For every resource and every resource policy it builds ``ResourceValidationArgs`` (type,
props = inputs, URN, name, options, provider, the policy's config) and for every stack
policy one ``StackValidationArgs`` over all resources (parents, dependencies and
property dependencies linked as objects), as Pulumi's analyzer does; props are wrapped in
the same unknown-checking proxy. Output (stdout)::

    {"pack": "mlops-platform-governance", "evaluated": N,
     "violations": [{"policy", "enforcement", "urn", "message"}, ...]}

``evaluated`` counts validate calls: resource policies x resources, plus one per stack
policy (disabled policies are not called and not counted). Violations are sorted by
URN, policy and message. A rule that raises is reported as a violation of that rule
(mandatory unless configured otherwise), never silently passed.

Config: a rule's properties are checked against its config schema, as the Pulumi CLI
does, and no rule can be ``disabled``: a config may lower a rule to advisory, where it
still runs and reports, but cannot make it one that cannot fail.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, deserialize_properties
from pulumi_policy.proxy import UnknownValueError, _is_unknown


def _rules_module() -> Any:
    if __package__:
        return importlib.import_module(".rules", __package__)
    # run as a script: `rules` is importable the way `pulumi` imports it
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    return importlib.import_module("rules")


ALL_POLICIES: list[Policy] = list(_rules_module().ALL_POLICIES)
PACK_NAME = "mlops-platform-governance"
LEVELS = {level.value: level for level in EnforcementLevel}


SECRET_PLACEHOLDER = "[secret]"  # a secure stack value the offline plan cannot decrypt


class PayloadError(ValueError):
    """The payload or the pack config is malformed."""


class UnseenValueError(Exception):
    """A rule read a value the plan does not know: it cannot decide, so it fails closed."""

    def __init__(self, urn: str, path: list[str], reason: str) -> None:
        super().__init__(f"{'.'.join(path)}: {reason}")
        self.urn = urn
        self.path = path
        self.reason = reason


def _level(value: Any, where: str) -> EnforcementLevel:
    if value not in LEVELS:
        raise PayloadError(
            f"{where}: enforcement level must be one of {', '.join(LEVELS)}, got {value!r}"
        )
    if LEVELS[value] == EnforcementLevel.DISABLED:
        raise PayloadError(
            f"{where}: a rule cannot be disabled; lower it to advisory, where it "
            "still evaluates and reports"
        )
    return LEVELS[value]


# The JSON-schema keywords rule schemas use; a schema with any other keyword is refused
# rather than checked partly (the Pulumi CLI validates the full JSON schema).
_SCHEMA_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}
_ANNOTATIONS = {"default", "description", "title"}


def check_schema(value: Any, schema: Mapping[str, Any], where: str) -> None:
    """Raise PayloadError naming ``where`` unless ``value`` satisfies ``schema``."""
    unknown = (
        set(schema)
        - _ANNOTATIONS
        - {
            "type",
            "enum",
            "minimum",
            "maximum",
            "minItems",
            "maxItems",
            "items",
            "additionalProperties",
            "pattern",
        }
    )
    if unknown:
        raise PayloadError(
            f"{where}: the rule's schema uses {', '.join(sorted(unknown))}, "
            "which the offline runner cannot check"
        )
    kind = schema.get("type")
    if kind is not None and not _SCHEMA_TYPES[kind](value):
        raise PayloadError(f"{where}: expected {kind}, got {json.dumps(value)}")
    if "enum" in schema and value not in schema["enum"]:
        raise PayloadError(
            f"{where}: must be one of {json.dumps(schema['enum'])}, got {json.dumps(value)}"
        )
    if "minimum" in schema and value < schema["minimum"]:
        raise PayloadError(f"{where}: must be at least {schema['minimum']}, got {value}")
    if "maximum" in schema and value > schema["maximum"]:
        raise PayloadError(f"{where}: must be at most {schema['maximum']}, got {value}")
    # JSON Schema's pattern is an unanchored ECMA-262 search; the rules' patterns use the
    # subset Python's `re` reads the same way
    if "pattern" in schema and not re.search(schema["pattern"], value):
        raise PayloadError(f"{where}: must match {schema['pattern']}, got {json.dumps(value)}")
    if "minItems" in schema and len(value) < schema["minItems"]:
        raise PayloadError(f"{where}: needs at least {schema['minItems']} item(s)")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        raise PayloadError(f"{where}: takes at most {schema['maxItems']} item(s)")
    if "items" in schema:
        for i, item in enumerate(value):
            check_schema(item, schema["items"], f"{where}[{i}]")
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping):
        for key, item in value.items():
            check_schema(item, extra, f"{where}.{key}")


def resolve_config(
    pack_config: Mapping[str, Any], policies: list[Policy]
) -> dict[str, tuple[EnforcementLevel, dict[str, Any]]]:
    """Per policy: (enforcement level, config properties), as the Pulumi CLI resolves them.

    Precedence: the policy's entry, then ``all``, then the policy's own default level.
    Properties are those of the policy's entry (without ``enforcementLevel``).
    """
    known = {p.name for p in policies}
    for key in pack_config:
        if key != "all" and key not in known:
            raise PayloadError(f"config: unknown policy '{key}'")
    default_all = pack_config.get("all")
    out = {}
    for policy in policies:
        level = policy.enforcement_level or EnforcementLevel.ADVISORY
        if default_all is not None:
            level = _level(
                default_all.get("enforcementLevel")
                if isinstance(default_all, dict)
                else default_all,
                "config.all",
            )
        entry = pack_config.get(policy.name)
        props: dict[str, Any] = {}
        if isinstance(entry, str):
            level = _level(entry, f"config.{policy.name}")
        elif isinstance(entry, dict):
            if "enforcementLevel" in entry:
                level = _level(entry["enforcementLevel"], f"config.{policy.name}")
            props = {k: v for k, v in entry.items() if k != "enforcementLevel"}
            schema = policy.config_schema.properties if policy.config_schema else {}
            unknown = sorted(set(props) - set(schema))
            if unknown:
                raise PayloadError(
                    f"config.{policy.name}: unknown propert(ies) {', '.join(unknown)}"
                )
            for key, value in props.items():
                check_schema(value, schema[key], f"config.{policy.name}.{key}")
        elif entry is not None:
            raise PayloadError(f"config.{policy.name}: expected a level or an object")
        out[policy.name] = (level, props)
    return out


class _Hidden:
    """A value in the props that the plan does not know, in place of the value."""

    __slots__ = ("reason", "sentinel")

    def __init__(self, sentinel: str | None, reason: str) -> None:
        self.sentinel = sentinel  # Pulumi's unknown sentinel, for an unknown value
        self.reason = reason


class _Props:
    """How one resource's props answer a rule that reads a value the plan does not know."""

    def __init__(self, urn: str, preview: bool) -> None:
        self.urn = urn
        self.preview = preview

    def refuse(self, value: _Hidden, path: list[str]) -> None:
        if value.sentinel is not None and self.preview:
            # CrossGuard during preview: not decided now, checked at the update
            raise UnknownValueError(value.sentinel, path)
        raise UnseenValueError(self.urn, path, value.reason)


class _DictProxy(Mapping[str, Any]):
    """Read-only props, like pulumi_policy's unknown-checking proxy: reading a value the
    plan does not know raises (presence is known: ``in`` does not)."""

    def __init__(self, target: dict[str, Any], path: list[str], props: _Props) -> None:
        self._target = target
        self._path = path
        self._props = props

    def __getitem__(self, key: str) -> Any:
        value = self._target[key]
        if isinstance(value, _Hidden):
            self._props.refuse(value, [*self._path, str(key)])
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._target

    def __iter__(self) -> Iterator[str]:
        return iter(self._target)

    def __len__(self) -> int:
        return len(self._target)


class _ListProxy(Sequence[Any]):
    def __init__(self, target: list[Any], path: list[str], props: _Props) -> None:
        self._target = target
        self._path = path
        self._props = props

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._target)))]
        value = self._target[index]  # IndexError first, as a list
        if isinstance(value, _Hidden):
            self._props.refuse(value, [*self._path, str(index % len(self._target))])
        return value

    def __len__(self) -> int:
        return len(self._target)


_UNKNOWN_REASON = "unknown in this plan (known only once the resource exists)"
_SECURE_REASON = (
    "a secret the plan shows only as [secret] (a `secure:` stack config value, "
    "which the offline plan cannot decrypt)"
)


def _wrap(value: Any, path: list[str], props: _Props) -> Any:
    if isinstance(value, dict):
        return _DictProxy(
            {k: _wrap(v, [*path, str(k)], props) for k, v in value.items()}, path, props
        )
    if isinstance(value, list):
        return _ListProxy(
            [_wrap(v, [*path, str(i)], props) for i, v in enumerate(value)], path, props
        )
    if isinstance(value, str):
        if _is_unknown(value):
            return _Hidden(value, _UNKNOWN_REASON)
        if SECRET_PLACEHOLDER in value:
            return _Hidden(None, _SECURE_REASON)
    return value


def props_of(inputs: Any, urn: str = "", preview: bool = False) -> Any:
    """Inputs as the analyzer hands them to rules: through a protobuf Struct (so every
    number is a float), deserialised (secrets in plaintext), wrapped in a proxy that
    raises when a rule reads a value the plan does not know."""
    struct = struct_pb2.Struct()
    struct.update(dict(inputs or {}))
    return _wrap(
        deserialize_properties(json_format.MessageToDict(struct)), [], _Props(urn, preview)
    )


# A JSON document held as a secret (a kubeconfig, database credentials) is masked whole,
# and each value in it long enough to be a credential: its short values are its structure
# ("v1", "aws", "mysql", 5432), and masking those wherever they occur would hide the
# rules' own words (a resource type, an engine) in every message.
PARSED_SECRET_MIN = 8


def _secret_leaves(value: Any, inside: bool, out: set[str], parsed: bool = False) -> None:
    """Every scalar under a secret envelope, as text (JSON documents' values too, from
    ``PARSED_SECRET_MIN`` characters)."""
    if isinstance(value, Mapping):
        if value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG:
            _secret_leaves(value.get("value"), True, out, parsed)
            return
        for item in value.values():
            _secret_leaves(item, inside, out, parsed)
    elif isinstance(value, list):
        for item in value:
            _secret_leaves(item, inside, out, parsed)
    elif inside and isinstance(value, str):
        if value and (not parsed or len(value) >= PARSED_SECRET_MIN):
            out.add(value)
        if value[:1] in ("{", "["):
            with contextlib.suppress(ValueError):
                _secret_leaves(json.loads(value), True, out, parsed=True)
    elif inside and isinstance(value, int | float) and not isinstance(value, bool):
        text = str(int(value)) if float(value).is_integer() else str(value)
        if not parsed or len(text) >= PARSED_SECRET_MIN:
            out.add(text)


def _plain_leaves(value: Any, out: set[str]) -> None:
    """Every scalar outside secret envelopes, as text."""
    if isinstance(value, Mapping):
        if value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG:
            return
        for item in value.values():
            _plain_leaves(item, out)
    elif isinstance(value, list):
        for item in value:
            _plain_leaves(item, out)
    elif isinstance(value, str):
        out.add(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        out.add(str(int(value)) if float(value).is_integer() else str(value))


def masker(resources: list[Mapping[str, Any]]) -> Callable[[str], str]:
    """A function that masks every secret value of the resources in a message; a value
    the plan also shows in the clear (a region, a cluster name in a kubeconfig) hides
    nothing and stays."""
    secrets: set[str] = set()
    plain: set[str] = set()
    for r in resources:
        _secret_leaves(r.get("inputs"), False, secrets)
        _plain_leaves(r.get("inputs"), plain)
    secrets -= plain
    if not secrets:
        return lambda message: message
    # longest first; a short secret only as a whole word, so messages stay readable
    words = sorted(secrets, key=len, reverse=True)
    pattern = re.compile(
        "|".join(
            re.escape(w) if len(w) >= 4 else rf"(?<![\w-]){re.escape(w)}(?![\w-])" for w in words
        )
    )
    return lambda message: pattern.sub(SECRET_PLACEHOLDER, message)


def _options(r: Mapping[str, Any]) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=bool(r.get("protect", False)),
        ignore_changes=list(r.get("ignoreChanges") or []),
        delete_before_replace=r.get("deleteBeforeReplace"),
        aliases=list(r.get("aliases") or []),
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=list(r.get("additionalSecretOutputs") or []),
        parent=r.get("parent") or None,
    )


def _providers(
    resources: list[Mapping[str, Any]], props: Mapping[str, Any]
) -> dict[str, PolicyProviderResource | None]:
    """Each resource's provider, as the engine hands it to the analyzer: the explicit one
    (``provider``: "<urn>::<id>"), else the package's default provider for a custom
    resource; none for a component or a provider (``custom`` false, or a provider type)."""
    by_urn = {r["urn"]: r for r in resources}
    made: dict[str, PolicyProviderResource] = {}

    def provider(urn: str) -> PolicyProviderResource:
        if urn not in made:
            known = by_urn.get(urn)
            # urn:pulumi:<stack>::<project>::<qualified type>::<name>
            parts = urn.split("::")
            typ = known["type"] if known else parts[2].rsplit("$", 1)[-1]
            made[urn] = PolicyProviderResource(
                typ, props[urn] if known else props_of({}), urn, parts[-1]
            )
        return made[urn]

    out: dict[str, PolicyProviderResource | None] = {}
    for r in resources:
        ref = r.get("provider")
        if isinstance(ref, str) and ref.count("::") >= 3:
            # a provider reference is "<urn>::<id>"; a URN itself holds exactly three "::"
            out[r["urn"]] = provider("::".join(ref.split("::")[:4]))
        elif r.get("custom", True) is False or r["type"].startswith("pulumi:providers:"):
            out[r["urn"]] = None
        else:
            head = r["urn"].split("::")[:2]  # urn:pulumi:<stack>, <project>
            package = r["type"].split(":", 1)[0]
            out[r["urn"]] = provider("::".join([*head, f"pulumi:providers:{package}", "default"]))
    return out


def _check_resource(r: Any, i: int) -> None:
    if not isinstance(r, Mapping):
        raise PayloadError(f"resources[{i}]: expected an object")
    for key in ("urn", "type", "name"):
        if not isinstance(r.get(key), str):
            raise PayloadError(f"resources[{i}].{key}: expected a string")
    if not isinstance(r.get("inputs", {}), Mapping):
        raise PayloadError(f"resources[{i}].inputs: expected an object")


def stack_resources(
    resources: list[Mapping[str, Any]],
    props: Mapping[str, Any],
    options: Mapping[str, PolicyResourceOptions],
    providers: Mapping[str, PolicyProviderResource | None],
) -> list[PolicyResource]:
    """PolicyResources linked by parent, dependencies and property dependencies (props,
    options and providers by URN, as the resource policies get them)."""
    objs = {
        r["urn"]: PolicyResource(
            r["type"],
            props[r["urn"]],
            r["urn"],
            r["name"],
            options[r["urn"]],
            providers[r["urn"]],
            None,
            [],
            {},
        )
        for r in resources
    }
    for r in resources:
        obj = objs[r["urn"]]
        parent = r.get("parent")
        if parent in objs:
            obj.parent = objs[parent]
        obj.dependencies = [objs[d] for d in r.get("dependencies") or [] if d in objs]
        obj.property_dependencies = {
            k: [objs[d] for d in v if d in objs]
            for k, v in (r.get("propertyDependencies") or {}).items()
        }
    return [objs[r["urn"]] for r in resources]


def evaluate(payload: Mapping[str, Any], policies: list[Policy] | None = None) -> dict[str, Any]:
    """Run every enabled policy over the payload's resources (see module docstring)."""
    policies = list(ALL_POLICIES if policies is None else policies)
    resources = payload.get("resources")
    if not isinstance(resources, list):
        raise PayloadError("resources: expected a list")
    seen: set[str] = set()
    for i, r in enumerate(resources):
        _check_resource(r, i)
        if r["urn"] in seen:
            # the Pulumi engine refuses a second registration; a dict by URN would keep one
            raise PayloadError(f"resources[{i}].urn: duplicate resource URN '{r['urn']}'")
        seen.add(r["urn"])
    preview = payload.get("preview", False)
    if not isinstance(preview, bool):
        raise PayloadError("preview: expected true or false")
    pack_config = payload.get("config") or {}
    if not isinstance(pack_config, Mapping):
        raise PayloadError("config: expected an object")
    resolved = resolve_config(pack_config, policies)
    stack_tags = payload.get("stackTags") or {}
    by_urn = {r["urn"]: r for r in resources}
    violations: list[dict[str, Any]] = []
    evaluated = 0
    # converted once per resource, for every rule and the stack; rules only read them
    props = {r["urn"]: props_of(r.get("inputs"), r["urn"], preview) for r in resources}
    options = {r["urn"]: _options(r) for r in resources}
    providers = _providers(resources, props)
    stack: list[PolicyResource] | None = None
    mask = masker(resources)  # the rules see secrets in plaintext; the output never does

    def reporter(policy: Policy, level: EnforcementLevel, default_urn: str | None) -> Any:
        def report(message: str, urn: str | None = None) -> None:
            # resource policies always report against the resource being validated
            target = default_urn if default_urn is not None else urn
            violations.append(
                {
                    "policy": policy.name,
                    "enforcement": level.value,
                    "urn": target,
                    "message": mask(message or policy.description),
                }
            )

        return report

    def run(policy: Policy, level: EnforcementLevel, urn: str | None, call: Any) -> None:
        report = reporter(policy, level, urn)
        try:
            call(report)
        except UnknownValueError as exc:
            # what Pulumi does during preview: the rule cannot decide, advisory note
            violations.append(
                {
                    "policy": policy.name,
                    "enforcement": "advisory",
                    "urn": urn,
                    "message": f"can't run policy during preview: {exc.message}",
                }
            )
        except UnseenValueError as exc:
            # fail closed: at the rule's own level, saying what it could not see
            where = (
                "" if urn is not None else f"{by_urn[exc.urn]['type']} '{by_urn[exc.urn]['name']}' "
            )
            report(
                f"Could not see {where}.{'.'.join(exc.path)}: {exc.reason}; the rule "
                "cannot decide without it.",
                exc.urn,
            )
        except Exception as exc:  # a crashing rule must not pass silently
            report(f"the rule failed: {type(exc).__name__}: {exc}")

    for policy in policies:
        level, settings = resolved[policy.name]
        if level == EnforcementLevel.DISABLED:
            continue
        if level == EnforcementLevel.REMEDIATE:
            level = EnforcementLevel.MANDATORY  # as the analyzer reports unremediated ones
        if isinstance(policy, ResourceValidationPolicy):
            for r in resources:
                args = ResourceValidationArgs(
                    r["type"],
                    props[r["urn"]],
                    r["urn"],
                    r["name"],
                    options[r["urn"]],
                    providers[r["urn"]],
                    dict(settings),
                    stack_tags,
                )
                evaluated += 1
                run(policy, level, r["urn"], lambda report, a=args, p=policy: p.validate(a, report))
        elif isinstance(policy, StackValidationPolicy):
            stack = (
                stack
                if stack is not None
                else stack_resources(resources, props, options, providers)
            )
            sargs = StackValidationArgs(stack, dict(settings), stack_tags)
            evaluated += 1
            run(policy, level, None, lambda report, a=sargs, p=policy: p.validate(a, report))
    violations.sort(key=lambda v: (v["urn"] or "", v["policy"], v["message"]))
    return {"pack": PACK_NAME, "evaluated": evaluated, "violations": violations}


def main() -> int:
    """Read the payload on stdin, print the result; one-line error and exit 2 on bad input."""
    try:
        payload = json.load(sys.stdin)
        if not isinstance(payload, dict):
            raise PayloadError("payload: expected a JSON object")
        result = evaluate(payload)
    except (ValueError, PayloadError) as exc:
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
