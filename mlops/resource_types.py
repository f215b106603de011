"""The per-type registry (mlops/data/resource-types.yaml), typed.

For every resource type the platform's plans hold: whether moto checks it offline, how
it is priced, how it maps to Terraform for the scanner, and where its version support
dates are kept. Facts that live elsewhere (the rates in the price table, the support
windows in infra/base/versions.yaml) are referred to, never copied: the tests hold the
registry to the engine and to the cost model.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mlops.errors import UsageError

REGISTRY_FILE = Path(__file__).with_name("data") / "resource-types.yaml"
SHOWN = "mlops/data/resource-types.yaml"

# The project's own components (`mlops:<area>:<Class>`) are not provider resources: what
# they declare is registered type by type.
OWN_COMPONENTS = "mlops:"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _reason(value: str) -> str:
    # a reason is for a reviewer: a word or two is not one
    if len(value.split()) < 3:
        raise ValueError("give the reason in a sentence")
    return value


class Unchecked(_Strict):
    unchecked: str

    _why = field_validator("unchecked")(_reason)


class Free(_Strict):
    free: str

    _why = field_validator("free")(_reason)


class TerraformMapping(_Strict):
    type: str = Field(pattern=r"^[a-z][a-z0-9]*_[a-z0-9_]+$")
    # Pulumi argument name (at any depth of this type) -> Terraform's, where the bridge
    # renamed it; everything else is camelCase -> snake_case
    rename: dict[str, str] = Field(default_factory=dict)
    # object-valued arguments that are maps (kept as they are); every other object is a
    # nested block, which Terraform's plan holds as a list of one
    maps: tuple[str, ...] = ()


class Unmappable(_Strict):
    unmappable: str

    _why = field_validator("unmappable")(_reason)


class Support(_Strict):
    versions: Literal["eks", "rds", "elasticache"]


class ResourceType(_Strict):
    moto: Literal["checked"] | Unchecked
    price: Literal["priced", "usage-only"] | Free
    terraform: TerraformMapping | Unmappable
    support: Support | None = None

    @property
    def moto_checked(self) -> bool:
        return self.moto == "checked"

    @property
    def mapping(self) -> TerraformMapping | None:
        return self.terraform if isinstance(self.terraform, TerraformMapping) else None


class Registry(_Strict):
    types: dict[str, ResourceType]

    @field_validator("types")
    @classmethod
    def _tokens(cls, types: dict[str, ResourceType]) -> dict[str, ResourceType]:
        for token in types:
            if not re.fullmatch(
                r"[a-z0-9-]+:[A-Za-z0-9./-]+:[A-Za-z0-9]+|pulumi:providers:\w+", token
            ):
                raise ValueError(f"{token!r} is not a Pulumi type token")
        return types

    def missing(self, types: Iterable[str]) -> list[str]:
        """The provider resource types among ``types`` that have no entry, sorted."""
        return sorted({t for t in types if not t.startswith(OWN_COMPONENTS)} - set(self.types))


def _first_error(exc: ValidationError) -> str:
    # of a union's failed branches, the deepest error is the one that says what is wrong
    errors = exc.errors()
    err = max(errors, key=lambda e: (len(e["loc"]), -errors.index(e)))
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}"


def parse(data: Mapping[str, Any], shown: str = SHOWN) -> Registry:
    """Validate a registry document; one line naming the field on a bad entry."""
    try:
        return Registry.model_validate(data)
    except ValidationError as exc:
        raise UsageError(f"{shown}: {_first_error(exc)}") from None


@functools.cache
def load(path: Path = REGISTRY_FILE) -> Registry:
    return parse(
        yaml.safe_load(path.read_text()) or {}, SHOWN if path == REGISTRY_FILE else str(path)
    )


def plan_types(plan: Mapping[str, Any]) -> set[str]:
    """The types a plan holds."""
    return {r["type"] for r in plan.get("resources", [])}
