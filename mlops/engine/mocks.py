"""Pulumi mocks that record the whole resource graph and back AWS types with moto."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pulumi.runtime import Mocks
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

from mlops.engine import fakes
from mlops.engine.aws_backend import AwsRejected, Backend
from mlops.engine.aws_worker import Session
from mlops.engine.values import struct_to_plain, struct_to_recorded


class DuplicateUrn(Exception):
    """Two resources with one URN (type and name under one parent).

    The Pulumi engine refuses the second registration; mocks would silently keep
    whichever registered last, so the recorded plan would depend on timing.
    """


class UnrunTransform(Exception):
    """A transform the Pulumi engine would run and the offline plan does not.

    Transforms (``pulumi.runtime.register_resource_transform``,
    ``register_invoke_transform``, ``ResourceOptions(transforms=...)``) are called by
    the engine, after the program registered a resource. Pulumi's mock monitor never
    calls them, so the plan would record what the program wrote before them, not what
    `pulumi up` creates: a transform that sets ``publiclyAccessible`` would pass every
    rule. The plan refuses them instead. The older ``transformations=`` and
    ``register_stack_transformation`` run inside the program, before registration, and
    are recorded as applied.
    """


class UnrunRemoteComponent(Exception):
    """A component whose children its provider plugin creates (awsx, eks, any multi-language
    component): the mock monitor records the component and nothing under it, so the plan
    would show none of what `pulumi up` creates. The Kubernetes provider's own (yaml/v2
    ConfigGroup and ConfigFile, helm v4 Chart, kustomize v2 Directory) are expanded from
    their inline objects or their inventories."""


# packages whose remote components the plan and the pack expand themselves
EXPANDED_REMOTE_PACKAGES = frozenset({"kubernetes"})


class UnmodelledInvoke(Exception):
    """An invoke the offline plan cannot answer truthfully.

    Answering unknown invokes with `{}` gives false passes (`iam.get_policy_document_output`
    would register a Role with no trust policy at all), so the plan fails instead and
    names the invoke to implement in fakes.INVOKES.
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
    # the inputs as the policy pack sees them, when they differ from ``inputs`` (a
    # secret or unknown value, shown there as a placeholder)
    pack_inputs: dict[str, Any] | None = None


class PlanMocks(Mocks):
    def __init__(self, ctx: fakes.Ctx, backend: Backend | Session | None) -> None:
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

    def register_transform(self, transform: Any) -> None:
        self._refuse_transform("pulumi.runtime.register_resource_transform")

    def register_invoke_transform(self, transform: Any) -> None:
        self._refuse_transform("pulumi.runtime.register_invoke_transform")

    def _refuse_transform(self, where: str) -> None:
        message = (
            f"the program registers a transform ({where}): the Pulumi engine runs it on "
            "what the program registers, the offline plan cannot, so the plan would not be "
            "what `pulumi up` creates; set the values in the program, or use "
            "register_stack_transformation / transformations=, which run in the program"
        )
        self.errors.append(message)
        raise UnrunTransform(message)

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


def _has_open_loop() -> bool:
    try:
        return not asyncio.get_event_loop_policy().get_event_loop().is_closed()
    except RuntimeError:
        return False


class RecordingMonitor(MockMonitor):
    """MockMonitor that also keeps what MockResourceArgs drops: parent, deps, options."""

    def __init__(self, mocks: PlanMocks) -> None:
        super().__init__(mocks)
        self.plan_mocks = mocks
        self.recorded: dict[str, Recorded] = {}
        # URNs registered so far: registrations run in worker threads, so the check for
        # a second one and the claim are one step under the lock
        self._urns: set[str] = set()
        self._urns_lock = threading.Lock()
        # MockMonitor opens an event loop in each worker thread and never closes it (an
        # unclosed loop collected at exit prints an ignored exception). Opening one per
        # call cost a third of each registration: each thread keeps its loop for the
        # plan, and `close_thread_loops` closes them once the threads are joined.
        self._thread_loops: list[asyncio.AbstractEventLoop] = []
        self._loops_lock = threading.Lock()
        self.stack_urn: str | None = None
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = urn
            return super().RegisterResource(request)
        with self._urns_lock:
            duplicate = urn in self._urns
            self._urns.add(urn)
        if duplicate:
            # the engine's own words (pulumi/pulumi, step_generator.go)
            message = f"Duplicate resource URN '{urn}'; try giving it a unique name"
            self.plan_mocks.errors.append(message)
            raise DuplicateUrn(message)
        if request.remote and request.type.split(":", 1)[0] not in EXPANDED_REMOTE_PACKAGES:
            message = (
                f"the program registers the remote component {request.type} "
                f"'{request.name}': its provider plugin creates its resources during "
                "`pulumi up`, the offline plan cannot run it, so nothing it creates would be "
                "checked; declare the resources themselves (pulumi_aws, pulumi_kubernetes)"
            )
            self.plan_mocks.errors.append(message)
            raise UnrunRemoteComponent(message)
        if request.transforms:  # ResourceOptions(transforms=...), a component's included
            self.plan_mocks._refuse_transform(
                f"ResourceOptions.transforms of {request.type} {request.name!r}"
            )
        response = self._keeping_loop(super().RegisterResource, request)
        registered = self.resources.get(urn)
        inputs, pack_inputs = struct_to_recorded(request.object)
        self.recorded[urn] = Recorded(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            custom=bool(request.custom),
            inputs=inputs,
            dependencies=sorted(set(request.dependencies)),
            property_dependencies={
                key: sorted(set(deps.urns))
                for key, deps in sorted(request.propertyDependencies.items())
                if deps.urns
            },
            protect=bool(request.protect),
            provider=request.provider or None,
            state=dict(registered.state) if registered else {},
            pack_inputs=pack_inputs,
        )
        return response

    def Invoke(self, request: Any) -> Any:
        return self._keeping_loop(super().Invoke, request)

    def ReadResource(self, request: Any) -> Any:
        return self._keeping_loop(super().ReadResource, request)

    def _keeping_loop(self, call: Callable[[Any], Any], request: Any) -> Any:
        had_loop = _has_open_loop()
        try:
            return call(request)
        finally:
            if not had_loop and _has_open_loop():
                with self._loops_lock:
                    self._thread_loops.append(asyncio.get_event_loop_policy().get_event_loop())

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn and request.urn == self.stack_urn:
            self.stack_outputs = struct_to_plain(request.outputs)
        return super().RegisterResourceOutputs(request)

    def close_thread_loops(self) -> None:
        """Close the worker threads' loops; call after the threads are joined."""
        with self._loops_lock:
            loops, self._thread_loops = self._thread_loops, []
        for loop in loops:
            loop.close()
