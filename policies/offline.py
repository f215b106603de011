"""Evaluate the pack offline on a planned stack: the validate functions Pulumi would call.

Runs in the pack's own environment (``.venv-policy``)::

    .venv-policy/bin/python policies/offline.py < payload.json

Input (stdin)::

    {"environment": "prod",
     "config": {<pack config, the format of --policy-pack-config>},
     "resources": [<the "resources" of `mlops plan --json`>]}

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
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Mapping
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
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy


def _rules_module() -> Any:
    if __package__:
        return importlib.import_module(".rules", __package__)
    # run as a script: `rules` is importable the way `pulumi` imports it
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    return importlib.import_module("rules")


ALL_POLICIES: list[Policy] = list(_rules_module().ALL_POLICIES)
PACK_NAME = "mlops-platform-governance"
LEVELS = {level.value: level for level in EnforcementLevel}


class PayloadError(ValueError):
    """The payload or the pack config is malformed."""


def _level(value: Any, where: str) -> EnforcementLevel:
    if value not in LEVELS:
        raise PayloadError(f"{where}: enforcement level must be one of "
                           f"{', '.join(LEVELS)}, got {value!r}")
    return LEVELS[value]


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
            level = _level(default_all.get("enforcementLevel") if isinstance(default_all, dict)
                           else default_all, "config.all")
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
                raise PayloadError(f"config.{policy.name}: unknown propert(ies) "
                                   f"{', '.join(unknown)}")
        elif entry is not None:
            raise PayloadError(f"config.{policy.name}: expected a level or an object")
        out[policy.name] = (level, props)
    return out


def props_of(inputs: Any) -> Any:
    """Inputs as the analyzer hands them to rules: through a protobuf Struct (so every
    number is a float), deserialised, wrapped in the unknown-checking proxy."""
    struct = struct_pb2.Struct()
    struct.update(dict(inputs or {}))
    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct)))


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


def _provider(r: Mapping[str, Any], by_urn: Mapping[str, Mapping[str, Any]]) -> (
        PolicyProviderResource | None):
    ref = r.get("provider")
    if not isinstance(ref, str) or not ref:
        return None
    # a provider reference is "<urn>::<id>"; a URN itself holds exactly three "::"
    urn = "::".join(ref.split("::")[:4])
    prov = by_urn.get(urn)
    if prov is None:
        return None
    return PolicyProviderResource(prov["type"], props_of(prov.get("inputs")), urn, prov["name"])


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
            r["type"], props[r["urn"]], r["urn"], r["name"],
            options[r["urn"]], providers[r["urn"]], None, [], {},
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
    for i, r in enumerate(resources):
        _check_resource(r, i)
    pack_config = payload.get("config") or {}
    if not isinstance(pack_config, Mapping):
        raise PayloadError("config: expected an object")
    resolved = resolve_config(pack_config, policies)
    stack_tags = payload.get("stackTags") or {}
    by_urn = {r["urn"]: r for r in resources}
    violations: list[dict[str, Any]] = []
    evaluated = 0
    # converted once per resource, for every rule and the stack; rules only read them
    props = {r["urn"]: props_of(r.get("inputs")) for r in resources}
    options = {r["urn"]: _options(r) for r in resources}
    providers = {r["urn"]: _provider(r, by_urn) for r in resources}
    stack: list[PolicyResource] | None = None

    def reporter(policy: Policy, level: EnforcementLevel, default_urn: str | None) -> Any:
        def report(message: str, urn: str | None = None) -> None:
            # resource policies always report against the resource being validated
            target = default_urn if default_urn is not None else urn
            violations.append({"policy": policy.name, "enforcement": level.value,
                               "urn": target, "message": message or policy.description})
        return report

    def run(policy: Policy, level: EnforcementLevel, urn: str | None, call: Any) -> None:
        report = reporter(policy, level, urn)
        try:
            call(report)
        except UnknownValueError as exc:
            # what Pulumi does during preview: the rule cannot decide, advisory note
            violations.append({"policy": policy.name, "enforcement": "advisory", "urn": urn,
                               "message": f"can't run policy during preview: {exc.message}"})
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
                    r["type"], props[r["urn"]], r["urn"], r["name"], options[r["urn"]],
                    providers[r["urn"]], dict(settings), stack_tags)
                evaluated += 1
                run(policy, level, r["urn"],
                    lambda report, a=args, p=policy: p.validate(a, report))
        elif isinstance(policy, StackValidationPolicy):
            stack = stack if stack is not None else stack_resources(
                resources, props, options, providers)
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
