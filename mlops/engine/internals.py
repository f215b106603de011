"""Every place the plan engine reaches into another library's private internals.

Two kinds, both checked before use: if an upgrade renamed or reshaped what is
touched, planning stops with one line naming the library, its installed version and
the attribute, instead of planning wrongly or slowly. pyproject.toml pins these
libraries to the ranges tested (`pulumi`, `pulumi-aws`, `pulumi-kubernetes`, `moto`,
`boto3`, `botocore`).

* Needed for a correct plan, always on: `settings.ROOT` and `SETTINGS.outputs`
  (`reset_stack_state`: a plan's own root stack and output set under mocks) and
  `sync_await._sync_await` (runs the program as the language host does).
* Speed only, all behind one switch: ``MLOPS_PLAN_SPEEDUPS=0`` turns every one off
  and the plan is byte-identical (tests/mlops/engine/test_internals.py plans every
  environment both ways). They are:

  - no cyclic GC while a plan runs (in the plan, its moto helper and a short-lived
    `mlops` process, which also skips the interpreter's teardown at exit);
  - no Python stack sent with each resource (`pulumi.runtime.resource._get_stack_trace`);
  - provider SDKs imported per name with postponed annotations (`lazy_providers`);
  - botocore's and moto's parsed JSON kept in the venv (`venv_cache`), moto's second
    parse of each service model shared with botocore's, moto's per-request method
    listing cached, one boto3 session for moto and our clients, unsigned requests;
  - one stand-in key for symmetric KMS keys instead of an RSA key each;
  - moto in a helper process on the other core (`aws_worker`), started before the
    command line is parsed: off, moto runs in the plan's own process.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib.metadata
import os
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from mlops.engine import venv_cache
from mlops.errors import PlanError, UsageError

SWITCH = "MLOPS_PLAN_SPEEDUPS"


class InternalsChanged(PlanError):
    """A library no longer has the private attribute, or its shape, the engine relies on."""


def speedups_on() -> bool:
    """The switch: on unless ``MLOPS_PLAN_SPEEDUPS=0`` (read at each use, so a test or a
    helper process started with it set sees it)."""
    value = os.environ.get(SWITCH, "1")
    if value not in ("0", "1"):
        raise UsageError(f"{SWITCH} must be 0 or 1, not {value!r}")
    return value == "1"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


_MISSING = object()


def require(
    owner: Any, attr: str, dist: str, shape: str = "callable", *, optional: bool = True
) -> Any:
    """``owner.attr``, checked: ``shape`` is "callable", "class", "set", "contextvar" or
    "present". Raises InternalsChanged naming the library, its version and the attribute."""
    if isinstance(owner, ModuleType):
        where = owner.__name__
    else:
        cls = owner if isinstance(owner, type) else type(owner)
        where = f"{cls.__module__}.{cls.__qualname__}"
    value = getattr(owner, attr, _MISSING)
    checks: dict[str, Callable[[Any], bool]] = {
        "callable": callable,
        "class": lambda v: isinstance(v, type),
        "set": lambda v: isinstance(v, set),
        "contextvar": lambda v: callable(getattr(v, "set", None)),
        "present": lambda v: True,
    }
    if value is _MISSING or not checks[shape](value):
        problem = "is gone" if value is _MISSING else f"is no longer a {shape}"
        raise changed(dist, f"{where}.{attr}", problem, optional=optional)
    return value


def changed(dist: str, what: str, problem: str, *, optional: bool = True) -> InternalsChanged:
    """The error for a private part of ``dist`` that is not as the engine expects."""
    return InternalsChanged(
        f"{dist} {_version(dist)}: {what} {problem}; the plan engine relies on it "
        f"(mlops/engine/internals.py): use the version pinned in pyproject.toml"
        + (f", or plan with {SWITCH}=0" if optional else "")
    )


# ---------------------------------------------------------------- needed for a correct plan


def sync_await() -> Callable[[Any], Any]:
    """Pulumi's own way to run a coroutine to the end from synchronous code."""
    from pulumi.runtime import sync_await as module

    found: Callable[[Any], Any] = require(module, "_sync_await", "pulumi", optional=False)
    return found


def reset_stack_state() -> None:
    """Give the plan about to run its own root stack and output set.

    set_mocks registers a stack of its own; run_in_stack (what the language host uses)
    must own the root so that exports reach the stack outputs. MockSettings leaves
    `outputs` at the process-wide default set, where a failed plan would leave tasks
    behind for the next one."""
    from pulumi.runtime import settings

    root = require(settings, "ROOT", "pulumi", "contextvar", optional=False)
    current = require(settings, "SETTINGS", "pulumi", "present", optional=False)
    require(current, "outputs", "pulumi", "set", optional=False)
    root.set(None)
    current.outputs = set()


# ---------------------------------------------------------------- the plan's own process


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """No cyclic garbage collection while planning: measured at half the CPU of a prod
    plan (moto's and botocore's large, long-lived data are rescanned again and again).
    A plan is short and its garbage is collected normally afterwards."""
    if not speedups_on():
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def no_source_positions() -> Iterator[None]:
    """Pulumi sends the engine, with each resource, the Python stack that created it
    (for source positions in the CLI); `traceback.extract_stack` reads and stats every
    frame's file each time, ~1/8 of a prod plan. The mock monitor drops it, so the plan
    sends an empty stack instead: the recorded plan is the same."""
    if not speedups_on():
        yield
        return
    from pulumi.runtime import resource
    from pulumi.runtime.proto import source_pb2

    original = require(resource, "_get_stack_trace", "pulumi")
    resource._get_stack_trace = require(source_pb2, "StackTrace", "pulumi", "class")
    try:
        yield
    finally:
        resource._get_stack_trace = original


@contextlib.contextmanager
def provider_imports() -> Iterator[None]:
    """Provider SDKs first imported inside this block load per name (`lazy_providers`)."""
    if not speedups_on():
        yield
        return
    from mlops.engine import lazy_providers

    with lazy_providers.installed():
        yield


@contextlib.contextmanager
def planning() -> Iterator[None]:
    """Every speed-up of the plan's own process, for the time a plan runs."""
    with no_gc(), provider_imports(), no_source_positions():
        yield


def short_lived_process() -> bool:
    """A command that only computes and prints: GC off now, and no teardown at exit
    (tearing moto's and botocore's tables down costs ~2 s of a 3 s plan). False when
    the speed-ups are off: the process then ends as any other."""
    if not speedups_on():
        return False
    gc.disable()
    return True


# ---------------------------------------------------------------- moto's helper process


def helper_gc_off() -> None:
    """In moto's helper: automatic collection off (a plan allocates ~0.5M objects there,
    and each collection rescanned botocore's models and moto's data: ~1/5 of its time)."""
    if speedups_on():
        gc.disable()


def helper_warmed_up() -> None:
    """In moto's helper: the warm-up's tables are frozen out of collection."""
    if speedups_on():
        gc.freeze()


def helper_plan_begins() -> None:
    """In moto's helper: collect what earlier plans left (the helper is waiting then)."""
    if speedups_on():
        gc.collect()


# botocore's service models and moto's bundled data (instance types, offerings per
# region, AWS-managed policies) are parsed from JSON in every process: ~0.5 s of the
# helper's start. Kept parsed (pickled) in the venv, they load ~4x faster.
_PARSED = venv_cache.FileCache(
    "parsed-json", functools.partial(pickle.dumps, protocol=pickle.HIGHEST_PROTOCOL), pickle.loads
)


def parsed_json(path: str, parse: Callable[[], Any]) -> Any:
    """``parse()`` of the JSON file at ``path``, from the venv's cache when the speed-ups
    are on and the cache can be used."""
    if not speedups_on():
        return parse()
    cached = _PARSED.get(path, parse)
    return parse() if cached is None else cached


def moto_session() -> Any:
    """The one boto3 session moto lists regions with; our clients use it too, so each
    service model is parsed once for both (botocore caches per session)."""
    from moto.core.base_backend import AccountSpecificBackend

    return require(AccountSpecificBackend, "get_session", "moto")()


# boto3 clients hold no moto state (moto's backends are process-wide), and building one
# copies botocore's whole event-handler table (~60 ms each here): one per service and
# region for the life of the process.
_CLIENTS: dict[tuple[str, str], Any] = {}


def boto_client(service: str, region: str) -> Any:
    """A boto3 client for moto. With the speed-ups: from moto's session, and unsigned
    (moto checks no signature, and SigV4 was a fifth of each request's time)."""
    key = (service, region)
    if key not in _CLIENTS:
        if speedups_on():
            from botocore import UNSIGNED
            from botocore.config import Config

            _CLIENTS[key] = moto_session().client(
                service, region_name=region, config=Config(signature_version=UNSIGNED)
            )
        else:
            import boto3

            _CLIENTS[key] = boto3.session.Session().client(service, region_name=region)
    return _CLIENTS[key]


def _cache_parsed_json(loader: Any) -> None:
    """botocore's loader and moto's `load_resource` read parsed documents from the venv."""
    from botocore.loaders import JSONFileLoader
    from moto.utilities import utils

    require(JSONFileLoader, "_load_file", "botocore")
    require(loader, "file_loader", "botocore", "present")

    class CachedJSONFileLoader(JSONFileLoader):
        def _load_file(self, full_path: str, open_method: Any) -> Any:
            if not os.path.isfile(full_path):
                return None
            return parsed_json(
                full_path,
                lambda: super(CachedJSONFileLoader, self)._load_file(full_path, open_method),
            )

    loader.file_loader = CachedJSONFileLoader()
    original = require(utils, "load_resource", "moto")
    moto_dir = Path(utils.__file__).parents[1]

    def load_resource(resource: str) -> Any:
        # as moto's own: the compressed file first
        for name in dict.fromkeys(
            [resource if resource.endswith(".gz") else f"{resource}.gz", resource]
        ):
            if (moto_dir / name).is_file():
                return parsed_json(str(moto_dir / name), lambda: original(resource))
        return original(resource)

    utils.load_resource = load_resource


_SYMMETRIC_STAND_IN: list[Any] = []
_SPED_UP: list[bool] = []  # once per process


def speed_up_moto() -> None:
    """Remove moto's repeated work that is most of a plan's time (measured: ~1.5 s of 3).

    * moto parses every service model a second time, after botocore (~60 ms each), and
      lists a response class's methods anew on every request.
    * moto generates an RSA-2048 private key for every KMS key, symmetric ones too
      (~0.1 s each), though only asymmetric keys ever sign: symmetric keys share one
      P-256 key (~1 ms), which nothing reads.
    * moto.ec2 lists regions at import through three fresh boto3 sessions (the EC2
      model, the biggest AWS has, parsed three times) and moto.eks parses the endpoint
      table on every cluster and node group through another fresh session: both get
      the shared session instead. Results are the same; only the parsing is shared.
    """
    if _SPED_UP or not speedups_on():
        return
    import boto3
    from moto.core import responses
    from moto.core import utils as core_utils
    from moto.eks import utils as eks_utils
    from moto.kms import models, utils

    # every attribute replaced below, checked before any is touched
    require(core_utils, "_load_service_model", "moto")
    require(responses, "method_names_from_class", "moto")
    method_names = require(core_utils, "method_names_from_class", "moto")
    require(eks_utils, "Session", "moto")
    original = require(utils, "generate_private_key", "moto")
    require(models, "generate_private_key", "moto")
    require(boto3, "Session", "boto3", "class")
    shared = moto_session()
    # moto parses each service model again with a loader of its own; botocore's
    # loader caches what our clients already parsed
    botocore_session = require(shared, "_session", "boto3", "present")
    loader = require(botocore_session, "get_component", "botocore")("data_loader")
    require(loader, "load_service_model", "botocore")
    _cache_parsed_json(loader)
    core_utils._load_service_model = loader.load_service_model
    # moto lists a response class's methods (inspect.getmembers) on every request
    responses.method_names_from_class = functools.cache(method_names)
    fresh = boto3.Session
    boto3.Session = lambda *a, **k: shared if not a and not k else fresh(*a, **k)
    try:
        import moto.ec2.models  # noqa: F401  (its import-time region list uses the shared session)
    finally:
        boto3.Session = fresh
    eks_utils.Session = lambda: shared

    def generate(key_spec: str) -> Any:
        if key_spec not in ("SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512"):
            return original(key_spec)
        if not _SYMMETRIC_STAND_IN:
            from cryptography.hazmat.primitives.asymmetric import ec

            _SYMMETRIC_STAND_IN.append(ec.generate_private_key(ec.SECP256R1()))
        return _SYMMETRIC_STAND_IN[0]

    models.generate_private_key = generate
    _SPED_UP.append(True)
