"""Pulumi mocks that record the whole resource graph and back AWS types with moto."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from pulumi.runtime import Mocks
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

from mlops.engine import fakes
from mlops.engine.aws_backend import AwsRejected, Backend
from mlops.engine.values import struct_to_plain


class UnmodelledInvoke(Exception):
    """An invoke the offline plan cannot answer truthfully.

    Answering unknown invokes with `{}` gives false passes (DESIGN.md), so the
    plan fails instead and names the invoke to implement in fakes.INVOKES.
    """


@dataclass
class Recorded:
    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    provider: str | None
    state: dict[str, Any] = field(default_factory=dict)


class PlanMocks(Mocks):
    def __init__(self, ctx: fakes.Ctx, backend: Backend | None) -> None:
        self.ctx = ctx
        self.backend = backend
        self.errors: list[str] = []
        self.moto_types: set[str] = set()
        self._provider_regions: dict[str, str] = {}  # provider id -> its region

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if not args.custom:
            return "", {}
        ident, state = fakes.new_resource(self.ctx, args.typ, args.name, args.inputs)
        if args.typ == "pulumi:providers:aws" and isinstance(args.inputs.get("region"), str):
            self._provider_regions[ident] = args.inputs["region"]
        if self.backend is not None:
            try:
                if self.backend.apply(args.typ, args.name, args.inputs, state):
                    self.moto_types.add(args.typ)
            except AwsRejected as exc:
                message = f"{args.typ} '{args.name}': {exc}"
                self.errors.append(message)
                raise AwsRejected(message) from None
        return ident, state

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        handler = fakes.INVOKES.get(args.token)
        if handler is None:
            message = (
                f"invoke {args.token} is not modelled offline (add it to mlops/engine/fakes.py)"
            )
            self.errors.append(message)
            raise UnmodelledInvoke(message)
        # a provider reference is "<urn>::<id>"; invokes answer for that provider's region
        region = self._provider_regions.get((args.provider or "").rsplit("::", 1)[-1])
        ctx = replace(self.ctx, region=region) if region else self.ctx
        result = handler(ctx, args.args)
        if self.backend is not None:
            self.backend.adopt(args.token, args.args, result)
        return result, []


@contextlib.contextmanager
def _closing_thread_loop() -> Iterator[None]:
    """MockMonitor opens an event loop in each worker thread and never closes it; an
    unclosed loop collected at interpreter exit prints an ignored exception, so close
    the one opened for this call."""
    try:
        had_loop = not asyncio.get_event_loop_policy().get_event_loop().is_closed()
    except RuntimeError:
        had_loop = False
    try:
        yield
    finally:
        if not had_loop:
            with contextlib.suppress(RuntimeError):
                asyncio.get_event_loop_policy().get_event_loop().close()
            asyncio.set_event_loop(None)


class RecordingMonitor(MockMonitor):
    """MockMonitor that also keeps what MockResourceArgs drops: parent, deps, options."""

    def __init__(self, mocks: PlanMocks) -> None:
        super().__init__(mocks)
        self.recorded: dict[str, Recorded] = {}
        self.stack_urn: str | None = None
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = urn
            return super().RegisterResource(request)
        with _closing_thread_loop():
            response = super().RegisterResource(request)
        registered = self.resources.get(urn)
        self.recorded[urn] = Recorded(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            custom=bool(request.custom),
            inputs=struct_to_plain(request.object),
            dependencies=sorted(set(request.dependencies)),
            property_dependencies={
                key: sorted(set(deps.urns))
                for key, deps in sorted(request.propertyDependencies.items())
                if deps.urns
            },
            protect=bool(request.protect),
            provider=request.provider or None,
            state=dict(registered.state) if registered else {},
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn and request.urn == self.stack_urn:
            self.stack_outputs = struct_to_plain(request.outputs)
        return super().RegisterResourceOutputs(request)
