"""Compile, run locally and submit the sample pipelines (what `mlops pipeline` calls)."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

from mlops.errors import MlopsError, UsageError
from pipelines import settings

COMPILED_DIR = Path(settings.__file__).resolve().parent / "compiled"


class PipelineRunError(MlopsError):
    """A pipeline task failed, or Kubeflow could not be reached."""

    exit_code = 1


def pipelines() -> dict[str, Any]:
    from pipelines.definitions import PIPELINES

    return dict(PIPELINES)


def get_pipeline(name: str) -> Any:
    """The pipeline function (a KFP GraphComponent) called `name`."""
    found = pipelines().get(name)
    if found is None:
        raise UsageError(f"unknown pipeline {name!r}; one of: {', '.join(sorted(pipelines()))}")
    return found


def describe() -> list[dict[str, Any]]:
    """Name, description and parameters (type, default) of every pipeline."""
    rows = []
    for name, func in sorted(pipelines().items()):
        spec = func.component_spec
        rows.append({
            "name": name,
            "description": spec.description or "",
            "parameters": {k: {"type": v.type, "default": v.default}
                           for k, v in (spec.inputs or {}).items()},
        })
    return rows


def _coerce(pipeline: str, key: str, kind: str, raw: str) -> Any:
    def bad() -> UsageError:
        return UsageError(f"parameter {key!r} of pipeline {pipeline!r} expects {kind}, "
                          f"got {raw!r}")

    if kind == "String":
        return raw
    if kind == "Integer":
        try:
            return int(raw)
        except ValueError:
            raise bad() from None
    if kind == "Float":
        try:
            return float(raw)
        except ValueError:
            raise bad() from None
    if kind == "Boolean":
        if raw.lower() in ("true", "1", "yes"):
            return True
        if raw.lower() in ("false", "0", "no"):
            return False
        raise bad()
    if kind in ("List", "Dict"):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise bad() from None
        if not isinstance(value, list if kind == "List" else dict):
            raise bad()
        return value
    raise bad()


def parse_params(name: str, pairs: Sequence[str]) -> dict[str, Any]:
    """Turn `k=v` strings into typed arguments of pipeline `name`.

    Raises:
        UsageError: Unknown pipeline, unknown parameter, malformed pair or wrong type.
    """
    inputs = get_pipeline(name).component_spec.inputs or {}
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"parameter {pair!r} is not of the form key=value")
        if key not in inputs:
            known = ", ".join(sorted(inputs)) or "none"
            raise UsageError(f"pipeline {name!r} has no parameter {key!r} (parameters: {known})")
        params[key] = _coerce(name, key, inputs[key].type, raw)
    return params


def compile_pipeline(name: str, out_dir: Path = COMPILED_DIR, image: str | None = None) -> Path:
    """Compile pipeline `name` to `<out_dir>/<name>.yaml` with `image` in every executor.

    Args:
        name: Pipeline name.
        out_dir: Output directory.
        image: Component image; default MLOPS_PIPELINE_IMAGE, else the image built by
            `pipelines/Dockerfile`.
    """
    from kfp import compiler

    func = get_pipeline(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{name}.yaml"
    compiler.Compiler().compile(func, str(target))
    wanted = image or os.environ.get(settings.IMAGE_ENV) or settings.DEFAULT_IMAGE
    if wanted != settings.DEFAULT_IMAGE:
        _set_image(target, wanted)
    return target


def _set_image(path: Path, image: str) -> None:
    """Point every executor of a compiled pipeline at `image` (the ECR repo in the cloud)."""
    documents = list(yaml.safe_load_all(path.read_text()))
    for executor in documents[0]["deploymentSpec"]["executors"].values():
        if "container" in executor:
            executor["container"]["image"] = image
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))


ENV_KEYS = (
    settings.TRACKING_URI_ENV, settings.S3_ENDPOINT_ENV, settings.BUCKET_ENV,
    settings.ARTIFACTS_DESTINATION_ENV, settings.FEAST_REPO_ENV, settings.FEAST_REGISTRY_ENV,
    settings.FEAST_ONLINE_STORE_ENV, settings.LOCAL_STATE_ENV,
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
)


def platform_env() -> dict[str, str]:
    """The environment components need, from the local platform (`mlops local up`).

    Endpoints exported in the environment (MLFLOW_TRACKING_URI, AWS_ENDPOINT_URL, ...) win,
    so the same command runs against servers started some other way.

    Raises:
        PipelineRunError: The local platform is not running.
    """
    from mlops.local.platform import LocalPlatform

    env = LocalPlatform().env()
    exported = {k: os.environ[k] for k in (*env, *ENV_KEYS) if os.environ.get(k)}
    endpoint = exported.get(settings.S3_ENDPOINT_ENV)
    if endpoint:
        # Every client's S3 endpoint variable follows an exported AWS_ENDPOINT_URL.
        for key in ("MLFLOW_S3_ENDPOINT_URL", "FEAST_S3_ENDPOINT_URL"):
            exported.setdefault(key, endpoint)
    env.update(exported)
    if not _healthy(env[settings.TRACKING_URI_ENV]):
        raise PipelineRunError(f"MLflow is not reachable at {env[settings.TRACKING_URI_ENV]}: "
                               "run `mlops local up`")
    return env


def _healthy(url: str) -> bool:
    import urllib.request

    if not url.startswith("http"):
        return False
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=2):
            return True
    except OSError:
        return False


@dataclass
class LocalRun:
    name: str
    seconds: float
    outputs: dict[str, Any] = field(default_factory=dict)
    root: Path | None = None


# The caller's MLflow context must not leak into components: `mlflow.set_experiment` in
# this process exports MLFLOW_EXPERIMENT_ID, which a component would then look up on
# whatever server *it* talks to.
CALLER_ONLY = ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID")


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """Components run as subprocesses that inherit os.environ: set it for the run only."""
    dropped = [k for k in CALLER_ONLY if k not in env]
    saved = {k: os.environ.get(k) for k in (*env, *dropped)}
    for key in dropped:
        os.environ.pop(key, None)
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_local(
    name: str, params: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
    pipeline_root: Path | None = None, echo: bool = True,
) -> LocalRun:
    """Run pipeline `name` with KFP's local SubprocessRunner in this Python environment.

    Args:
        name: Pipeline name.
        params: Typed pipeline arguments.
        env: Platform environment for the components (`LocalPlatform.env()`).
        pipeline_root: Where task outputs go; default a temporary directory.
        echo: Print the task logs as they come (they are kept either way).

    Raises:
        PipelineRunError: A task failed; the message names it and its error.
    """
    return run_pipeline_func(name, get_pipeline(name), params, env, pipeline_root, echo)


def run_pipeline_func(
    name: str, func: Callable[..., Any], params: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None, pipeline_root: Path | None = None, echo: bool = True,
) -> LocalRun:
    """`run_local` for any pipeline function (tests run pipelines of their own)."""
    from kfp import local

    root = pipeline_root or Path(tempfile.mkdtemp(prefix=f"kfp-{name}-"))
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root),
               raise_on_error=True)
    started = time.perf_counter()
    log = _Tee(sys.stdout if echo else None)
    with _environment(env or {}), warnings.catch_warnings(), redirect_stdout(log):
        # The runner warns when the image name lacks "python"; locally the image is not
        # used at all (components run in this venv), so the warning is noise.
        warnings.filterwarnings("ignore", message=".*non-Python base image.*")
        try:
            task = func(**dict(params or {}))
        except RuntimeError as exc:
            cause = log.last_error()
            where = _failure(exc)
            raise PipelineRunError(
                f"pipeline {name!r} failed: {cause or where}" + (f" ({where})" if cause else "")
            ) from None
    outputs = dict(getattr(task, "outputs", {}) or {})
    return LocalRun(name=name, seconds=time.perf_counter() - started, outputs=outputs, root=root)


ANSI = re.compile(r"\x1b\[[0-9;]*m")
ERROR_LINE = re.compile(r"^\s*([\w.]+(?:Error|Exception)): (.+)$")


class _Tee(io.TextIOBase):
    """Keeps the task logs the local runner prints, to name the error of a failed task."""

    def __init__(self, echo: TextIO | None) -> None:
        self.echo = echo
        self.lines: list[str] = []

    def write(self, text: str) -> int:
        if self.echo is not None:
            self.echo.write(text)
        self.lines.extend(text.splitlines())
        return len(text)

    def flush(self) -> None:
        if self.echo is not None:
            self.echo.flush()

    def last_error(self) -> str | None:
        for line in reversed(self.lines):
            match = ERROR_LINE.match(ANSI.sub("", line))
            if match:
                return f"{match.group(1).rsplit('.', 1)[-1]}: {match.group(2).strip()}"
        return None


def _failure(exc: BaseException) -> str:
    lines = [ANSI.sub("", line) for line in str(exc).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def submit(
    name: str, host: str, *, namespace: str | None = None, experiment: str | None = None,
    params: Mapping[str, Any] | None = None, image: str | None = None,
    timeout: float = 10.0,
) -> str:
    """Compile and submit pipeline `name` to the Kubeflow Pipelines API at `host`.

    Returns:
        The run id.

    Raises:
        PipelineRunError: The host cannot be reached or refused the run.
    """
    import kfp
    import requests

    get_pipeline(name)
    _check_reachable(host, timeout)
    with tempfile.TemporaryDirectory(prefix="kfp-submit-") as tmp:
        package = compile_pipeline(name, Path(tmp), image)
        try:
            client = kfp.Client(host=host, namespace=namespace)
            run = client.create_run_from_pipeline_package(
                str(package), arguments=dict(params or {}),
                experiment_name=experiment or "Default", namespace=namespace,
            )
        except (requests.RequestException, OSError) as exc:
            raise PipelineRunError(f"cannot submit to {host}: {_failure(exc)}") from None
        except Exception as exc:  # kfp_server_api raises ApiException and friends
            raise PipelineRunError(f"Kubeflow at {host} refused the run: {_failure(exc)}") from None
    return str(run.run_id)


def _check_reachable(host: str, timeout: float) -> None:
    """Fail in one line before kfp.Client retries an unreachable host for minutes."""
    import requests

    try:
        requests.get(host.rstrip("/") + "/apis/v2beta1/healthz", timeout=timeout)
    except requests.RequestException as exc:
        raise PipelineRunError(f"Kubeflow Pipelines at {host} is unreachable: "
                               f"{type(exc).__name__}") from None
