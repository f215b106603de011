"""A plan in Terraform's plan-JSON format (`terraform show -json`), for scanners.

Scanners such as checkov read Terraform plans, not Pulumi programs. pulumi-aws is bridged
from the Terraform AWS provider, so each resource maps to a Terraform resource whose
arguments are the Pulumi inputs in snake_case, except where the bridge renamed them: the
type and the renames are data in the per-type registry (mlops/data/resource-types.yaml).

What a value is, Terraform's way:
- an input that came from another resource's output is a *reference*
  (`configuration...expressions.<arg>.references`), which is how a scanner's graph
  connects a bucket to its public-access block. When that output is computed by the cloud
  (an ID, an ARN), Terraform does not know it at plan time: the value is left out of
  `values` and marked in `after_unknown`. The mocks' stand-in IDs never reach the export.
- a secret is left out of `values` and marked in `sensitive_values`;
- an unknown input is left out and marked in `after_unknown`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mlops.errors import PlanError
from mlops.resource_types import SHOWN, Registry, TerraformMapping

FORMAT_VERSION = "1.2"
# the Terraform release whose plan format this follows (format 1.2: Terraform 1.6-1.9)
TERRAFORM_VERSION = "1.9.8"
_PROVIDERS = {
    "aws": "registry.terraform.io/hashicorp/aws",
    "random": "registry.terraform.io/hashicorp/random",
}
_SECRET = "[secret]"
_UNKNOWN = "[unknown]"
# a dependency's output found inside a longer string (a policy document naming an ARN) is
# a reference only when it is long enough not to match by chance
_MIN_EMBEDDED = 12

Json = dict[str, Any]


def snake(name: str) -> str:
    """Pulumi's camelCase argument name as Terraform's snake_case (`cidrIpv4` -> cidr_ipv4)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


class _Unknown:
    """A value Terraform would not know at plan time."""


UNKNOWN = _Unknown()


class _Resource:
    """One mapped resource: its address and what its outputs are."""

    def __init__(self, r: Json, mapping: TerraformMapping, name: str, state: Json) -> None:
        self.r = r
        self.mapping = mapping
        self.name = name
        self.address = f"{mapping.type}.{name}"
        self.state = state

    def secret_output(self) -> str:
        # the random provider's generated value is `result`; anything else is known by its ID
        attr = "result" if self.mapping.type.startswith("random_") else "id"
        return f"{self.address}.{attr}"

    def outputs(self) -> list[tuple[str, str, bool]]:
        """(attribute, value, known at plan) for each string output, IDs and ARNs first."""
        inputs = self.r["inputs"]
        order = {"id": 0, "arn": 1}
        found = []
        for attr, value in self.state.items():
            if isinstance(value, str) and value and value not in (_SECRET, _UNKNOWN):
                # an output that merely echoes an input is known when Terraform plans
                found.append((attr, value, attr != "id" and inputs.get(attr) == value))
        return sorted(found, key=lambda f: (order.get(f[0], 2), f[0]))


class _Converter:
    def __init__(self, res: _Resource, mapped: Mapping[str, _Resource]) -> None:
        self.res = res
        self.mapped = mapped

    def deps(self, name: str) -> list[_Resource]:
        """The mapped resources whose outputs the top-level argument ``name`` was made from."""
        urns = (self.res.r.get("propertyDependencies") or {}).get(name) or []
        return [self.mapped[u] for u in sorted(set(urns)) if u in self.mapped]

    def key(self, name: str) -> str:
        return self.res.mapping.rename.get(name) or snake(name)

    @staticmethod
    def leaf(value: Any, deps: list[_Resource]) -> tuple[Any, list[str]]:
        """(Terraform value or UNKNOWN, references) of a scalar."""
        if value == _UNKNOWN or value is None:
            return UNKNOWN, []
        if not isinstance(value, str) or not deps:
            return value, []
        # a dependency's own ID or ARN first: another dependency may merely echo it (a
        # security group's vpcId is the VPC's ID)
        hits = sorted(
            (
                (rank, attr, known, dep)
                for dep in deps
                for rank, (attr, out, known) in enumerate(dep.outputs())
                if value == out
            ),
            key=lambda h: (h[1] not in ("id", "arn"), h[3].address, h[0]),
        )
        if hits:
            _rank, attr, known, dep = hits[0]
            return (value if known else UNKNOWN), [f"{dep.address}.{snake(attr)}", dep.address]
        refs: list[str] = []
        for dep in deps:
            for attr, out, _known in dep.outputs():
                if len(out) >= _MIN_EMBEDDED and out in value:
                    refs += [f"{dep.address}.{snake(attr)}", dep.address]
                    break
        return value, refs

    def block(
        self, obj: Mapping[str, Any], inherited: list[_Resource] | None
    ) -> tuple[Json, Json, Json, Json]:
        """(values, after_unknown, sensitive, expressions) of one block's arguments; the
        top level (``inherited`` None) takes each argument's own dependencies."""
        values: Json = {}
        unknown: Json = {}
        sensitive: Json = {}
        exprs: Json = {}
        for name, raw in sorted(obj.items()):
            key = self.key(name)
            if inherited is None and key == "id":
                continue  # Terraform's own attribute, never an argument
            deps = self.deps(name) if inherited is None else inherited
            if name == "tags" or name in self.res.mapping.maps:
                values[key] = raw
                continue
            if raw == _SECRET or (isinstance(raw, list) and _SECRET in raw):
                # a secret made from another resource (a generated password) is unknown
                # until that resource exists; one given in config is known but sensitive
                if deps:
                    unknown[key] = True
                    exprs[key] = {
                        "references": [ref for d in deps for ref in (d.secret_output(), d.address)]
                    }
                sensitive[key] = True
                continue
            if isinstance(raw, dict):
                v, u, s, e = self.block(raw, deps)
                values[key], unknown[key], sensitive[key] = [v], [u], [s]
                if e:
                    exprs[key] = [e]
                continue
            if isinstance(raw, list) and raw and all(isinstance(i, dict) for i in raw):
                parts = [self.block(i, deps) for i in raw]
                values[key] = [p[0] for p in parts]
                unknown[key] = [p[1] for p in parts]
                sensitive[key] = [p[2] for p in parts]
                if any(p[3] for p in parts):
                    exprs[key] = [p[3] for p in parts]
                continue
            if isinstance(raw, list):
                leaves = [self.leaf(i, deps) for i in raw]
                refs = [ref for _v, rs in leaves for ref in rs]
                if leaves and all(v is UNKNOWN for v, _rs in leaves):
                    unknown[key] = True
                else:
                    values[key] = [None if v is UNKNOWN else v for v, _rs in leaves]
                    if any(v is UNKNOWN for v, _rs in leaves):
                        unknown[key] = [v is UNKNOWN for v, _rs in leaves]
                if refs:
                    exprs[key] = {"references": list(dict.fromkeys(refs))}
                continue
            value, refs = self.leaf(raw, deps)
            if value is UNKNOWN:
                unknown[key] = True
            else:
                values[key] = value
            if refs:
                exprs[key] = {"references": refs}
        return values, _trim(unknown), _trim(sensitive), exprs


def _trim(marks: Json) -> Json:
    """Drop the all-false parts of an after_unknown/sensitive_values tree."""
    out: Json = {}
    for key, mark in marks.items():
        if mark is True:
            out[key] = True
        elif isinstance(mark, list) and any(m is True or (isinstance(m, dict) and m) for m in mark):
            out[key] = mark
    return out


def _names(plan: Mapping[str, Any], registry: Registry) -> dict[str, _Resource]:
    """urn -> mapped resource, names unique per Terraform type (in URN order)."""
    states = plan.get("_states") or {}
    taken: set[str] = set()
    out: dict[str, _Resource] = {}
    for r in sorted(plan["resources"], key=lambda r: r["urn"]):
        entry = registry.types.get(r["type"])
        if not r.get("custom", True) or entry is None or entry.mapping is None:
            continue
        base = re.sub(r"[^A-Za-z0-9_-]", "_", r["name"])
        if not re.match(r"[A-Za-z_]", base):
            base = f"_{base}"
        name, n = base, 2
        while f"{entry.mapping.type}.{name}" in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(f"{entry.mapping.type}.{name}")
        out[r["urn"]] = _Resource(r, entry.mapping, name, states.get(r["urn"]) or {})
    return out


def _provider_config(plan: Mapping[str, Any], used: set[str]) -> Json:
    config: Json = {}
    for provider in sorted(used):
        expressions: Json = {}
        if provider == "aws":
            for r in plan["resources"]:
                region = r["inputs"].get("region") if r["type"] == "pulumi:providers:aws" else None
                if isinstance(region, str):
                    expressions["region"] = {"constant_value": region}
                    break
        config[provider] = {
            "name": provider,
            "full_name": _PROVIDERS[provider],
            "expressions": expressions,
        }
    return config


def unregistered(plan: Mapping[str, Any], registry: Registry) -> list[str]:
    return registry.missing(r["type"] for r in plan["resources"] if r.get("custom", True))


def export(plan: Mapping[str, Any], registry: Registry) -> Json:
    """The plan as Terraform plan JSON: every mapped resource, with its references."""
    if missing := unregistered(plan, registry):
        raise PlanError(
            f"{missing[0]} has no entry in {SHOWN} (its Terraform mapping, moto check and "
            f"price): add one"
        )
    mapped = _names(plan, registry)
    planned, changes, configured = [], [], []
    providers: set[str] = set()
    for res in mapped.values():
        r = res.r
        provider = res.mapping.type.split("_", 1)[0]
        if provider not in _PROVIDERS:
            raise PlanError(
                f"{r['type']}: Terraform type {res.mapping.type} names no provider "
                f"the export knows ({', '.join(sorted(_PROVIDERS))})"
            )
        providers.add(provider)
        values, unknown, sensitive, exprs = _Converter(res, mapped).block(r["inputs"], None)
        unknown = {"id": True, **unknown}
        head = {
            "address": res.address,
            "mode": "managed",
            "type": res.mapping.type,
            "name": res.name,
            "provider_name": _PROVIDERS[provider],
        }
        planned.append(
            {**head, "schema_version": 0, "values": values, "sensitive_values": sensitive}
        )
        changes.append(
            {
                **head,
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": values,
                    "after_unknown": unknown,
                    "before_sensitive": False,
                    "after_sensitive": sensitive,
                },
            }
        )
        configured.append(
            {
                "address": res.address,
                "mode": "managed",
                "type": res.mapping.type,
                "name": res.name,
                "provider_config_key": provider,
                "expressions": exprs,
                "schema_version": 0,
            }
        )
    return {
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": _provider_config(plan, providers),
            "root_module": {"resources": configured},
        },
    }
