"""Compile, run locally and submit the sample pipelines (what `mlops pipeline` calls)."""

from __future__ import annotations

import io
import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import yaml

from mlops.errors import MlopsError, UsageError
from mlops.task_server import TRAILER
from mlops_runtime import pipelines_env as penv
from mlops_runtime import teams
from mlops_runtime.environ import environment
from pipelines import settings

if TYPE_CHECKING:
    from rich.console import Console

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
        rows.append(
            {
                "name": name,
                "description": spec.description or "",
                "parameters": {
                    k: {"type": v.type, "default": v.default}
                    for k, v in (spec.inputs or {}).items()
                },
            }
        )
    return rows


def _coerce(pipeline: str, key: str, kind: str, raw: str) -> Any:
    def bad() -> UsageError:
        return UsageError(f"parameter {key!r} of pipeline {pipeline!r} expects {kind}, got {raw!r}")

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


def compile_pipeline(
    name: str, out_dir: Path = COMPILED_DIR, image: str | None = None, team: str | None = None
) -> Path:
    """Compile pipeline `name` to `<out_dir>/<name>.yaml` with `image` in every executor.

    Args:
        name: Pipeline name.
        out_dir: Output directory.
        image: Component image; default MLOPS_PIPELINE_IMAGE, else the image built by
            `pipelines/Dockerfile`.
        team: Compile for this team's runs: its tasks read the team's ConfigMap and Secret
            (``mlops-pipelines-env-<team>``) instead of the shared ones.
    """
    from kfp import compiler

    func = get_pipeline(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{name}.yaml"
    compiler.Compiler().compile(func, str(target))
    wanted = image or os.environ.get(settings.IMAGE_ENV) or settings.DEFAULT_IMAGE
    if team or wanted != settings.DEFAULT_IMAGE:
        documents = list(yaml.safe_load_all(target.read_text()))
        if team:
            _for_team(documents, team, target.name)
        if wanted != settings.DEFAULT_IMAGE:
            _set_image(documents, wanted)
        target.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return target


def _for_team(documents: list[Any], team: str, name: str) -> None:
    """Point every task of a compiled pipeline at the team's ConfigMap and Secret.

    KFP builds a pipeline's spec when its function is decorated, so the team cannot be a
    compile-time argument of the definitions: the shared names are replaced here, and the
    team's extra keys (its MLflow workspace) added.
    """
    shared, own = penv.PLATFORM_ENV, penv.platform_env(team)
    platforms = documents[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    for executor in platforms.values():
        for field_, name_key in (
            ("configMapAsEnv", "configMapName"),
            ("secretAsEnv", "secretName"),
        ):
            for source in executor.get(field_, []):
                if source.get(name_key) != shared:
                    raise MlopsError(f"{name}: a task reads {source.get(name_key)!r}")
                source[name_key] = own
                param = f"{name_key}Parameter"
                if param in source:
                    source[param] = {"runtimeValue": {"constant": own}}
                if field_ == "configMapAsEnv":
                    mapped = {k["configMapKey"] for k in source["keyToEnv"]}
                    source["keyToEnv"] += [
                        {"configMapKey": k, "envVar": k}
                        for k in penv.TEAM_ENV_KEYS
                        if k not in mapped
                    ]


def _set_image(documents: list[Any], image: str) -> None:
    """Point every executor of a compiled pipeline at `image` (the ECR repo in the cloud)."""
    for executor in documents[0]["deploymentSpec"]["executors"].values():
        if "container" in executor:
            executor["container"]["image"] = image


ENV_KEYS = (
    settings.TRACKING_URI_ENV,
    settings.S3_ENDPOINT_ENV,
    settings.BUCKET_ENV,
    settings.ARTIFACTS_DESTINATION_ENV,
    settings.FEAST_REPO_ENV,
    settings.FEAST_REGISTRY_ENV,
    settings.FEAST_ONLINE_STORE_ENV,
    settings.LOCAL_STATE_ENV,
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
)


# Who a run is on MLflow and where its data goes: taken together, from `--team` or from
# what the shell exported (`eval "$(mlops local env --team NAME)"`), never mixed.
IDENTITY_KEYS = (
    penv.USERNAME_ENV,
    penv.PASSWORD_ENV,
    penv.WORKSPACE_ENV,
    penv.DATA_PREFIX_ENV,
)


def platform_env(team: str | None = None) -> dict[str, str]:
    """The environment components need, from the local platform (`mlops local up`).

    Endpoints exported in the environment (MLFLOW_TRACKING_URI, AWS_ENDPOINT_URL, ...) win,
    so the same command runs against servers started some other way. The MLflow identity
    is `team`'s (its pipeline user, workspace and data prefix) when given; else the one the
    shell exported (MLFLOW_TRACKING_USERNAME set); else the shared pipelines account in the
    default workspace.

    Raises:
        UsageError: Unknown team.
        PipelineRunError: The local platform is not running.
    """
    from mlops.local.platform import LocalPlatform, LocalSettings

    # the platform `mlops local up --state-dir` (or MLOPS_LOCAL_STATE_DIR) started
    state_dir = os.environ.get(settings.LOCAL_STATE_ENV)
    env = LocalPlatform(LocalSettings(state_dir=Path(state_dir)) if state_dir else None).env(team)
    exported = {
        k: os.environ[k] for k in (*env, *ENV_KEYS) if os.environ.get(k) and k not in IDENTITY_KEYS
    }
    if team is None and os.environ.get(penv.USERNAME_ENV):
        exported.update({k: os.environ.get(k, "") for k in IDENTITY_KEYS})
    endpoint = exported.get(settings.S3_ENDPOINT_ENV)
    if endpoint:
        # Every client's S3 endpoint variable follows an exported AWS_ENDPOINT_URL.
        for key in ("MLFLOW_S3_ENDPOINT_URL", "FEAST_S3_ENDPOINT_URL"):
            exported.setdefault(key, endpoint)
    env.update(exported)
    if not _healthy(env[settings.TRACKING_URI_ENV]):
        raise PipelineRunError(
            f"MLflow is not reachable at {env[settings.TRACKING_URI_ENV]}: run `mlops local up`"
        )
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


def describe_identity(env: Mapping[str, str]) -> str:
    """As whom and where a run works, in one line (never the password)."""
    workspace = env.get(penv.WORKSPACE_ENV) or "default"
    prefix = (env.get(penv.DATA_PREFIX_ENV) or "").strip("/")
    bucket = env.get(penv.BUCKET_ENV, "")
    return (
        f"as {env.get(penv.USERNAME_ENV) or 'nobody (no MLflow user)'} in MLflow workspace "
        f"{workspace}, data under s3://{bucket}/{prefix + '/' if prefix else ''}"
    )


def team_params(name: str, params: Mapping[str, Any], team: str | None) -> dict[str, Any]:
    """`params` with the pipeline's ``team`` parameter set to `team` (the namespace and
    prefix its model is served from); a different ``-p team=`` is refused.

    Raises:
        UsageError: `team` and the ``team`` parameter disagree.
    """
    result = dict(params)
    inputs = get_pipeline(name).component_spec.inputs or {}
    if team is None or "team" not in inputs:
        return result
    if result.setdefault("team", team) != team:
        raise UsageError(
            f"--team {team} and --param team={result['team']} disagree: a team's run serves "
            "its model from its own namespace and prefix"
        )
    return result


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


def _environment(env: Mapping[str, str]) -> AbstractContextManager[None]:
    """Components run as subprocesses that inherit os.environ: set it for the run only."""
    return environment(env, unset=CALLER_ONLY)


def run_local(
    name: str,
    params: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    pipeline_root: Path | None = None,
    echo: bool = True,
    progress: Progress | None = None,
    tasks: WarmTasks | None = None,
) -> LocalRun:
    """Run pipeline `name` with KFP's local SubprocessRunner in this Python environment.

    Args:
        name: Pipeline name.
        params: Typed pipeline arguments.
        env: Platform environment for the components (`LocalPlatform.env()`).
        pipeline_root: Where task outputs go; default a temporary directory.
        echo: Print the task logs as they come (they are kept either way).
        progress: Told when each task starts and ends (`TaskEvent`).
        tasks: A warm task server (`warm_tasks()`) that runs the tasks as forks of a
            process that has imported their libraries already; None: cold processes.

    Raises:
        PipelineRunError: A task failed; the message names it and its error.
    """
    return run_pipeline_func(
        name, get_pipeline(name), params, env, pipeline_root, echo, progress, tasks
    )


def run_pipeline_func(
    name: str,
    func: Callable[..., Any],
    params: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    pipeline_root: Path | None = None,
    echo: bool = True,
    progress: Progress | None = None,
    tasks: WarmTasks | None = None,
) -> LocalRun:
    """`run_local` for any pipeline function (tests run pipelines of their own)."""
    from kfp import local

    root = pipeline_root or Path(tempfile.mkdtemp(prefix=f"kfp-{name}-"))
    local.init(
        runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root), raise_on_error=True
    )
    started = time.perf_counter()
    out = sys.stdout
    log = _Tee(out if echo else None)
    with (
        _environment(env or {}),
        warnings.catch_warnings(),
        redirect_stdout(log),
        _task_hooks(log, _unredirected(progress, out), tasks),
    ):
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
TRACEBACK = re.compile(r"^\s*Traceback \(most recent call last\):")
# KFP's local runner indents a task's output; a traceback's frames are indented further.
RAISED_LINE = re.compile(r"^\s{0,4}([A-Za-z_][\w.]*): (.+)$")


class _Tee(io.TextIOBase):
    """Keeps the task logs the local runner prints, to name the error of a failed task."""

    def __init__(self, echo: TextIO | None) -> None:
        self.echo = echo
        self.lines: list[str] = []
        self._partial = ""

    def write(self, text: str) -> int:
        if self.echo is not None:
            self.echo.write(text)
        # whole lines: KFP writes a task line's indent and the line in two calls
        *done, self._partial = (self._partial + text).split("\n")
        self.lines.extend(done)
        return len(text)

    def flush(self) -> None:
        if self.echo is not None:
            self.echo.flush()

    def last_error(self, since: int = 0) -> str | None:
        lines = [ANSI.sub("", line) for line in [*self.lines[since:], self._partial]]
        # The exception a traceback ends with, whatever its name (botocore's NoSuchKey)...
        for start in reversed([i for i, line in enumerate(lines) if TRACEBACK.match(line)]):
            for line in lines[start + 1 :]:
                match = RAISED_LINE.match(line)
                if match:
                    return f"{match.group(1).rsplit('.', 1)[-1]}: {match.group(2).strip()}"
        # ...else the last line that names an error.
        for line in reversed(lines):
            match = ERROR_LINE.match(line)
            if match:
                return f"{match.group(1).rsplit('.', 1)[-1]}: {match.group(2).strip()}"
        return None


def _failure(exc: BaseException) -> str:
    lines = [ANSI.sub("", line) for line in str(exc).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


@dataclass(frozen=True)
class TaskEvent:
    """A task of a local run started (`seconds` 0) or ended.

    `task` is KFP's task name (`train-model`), numbered from the second run of the same
    task on (`train-model #2`, the iterations of a parallel-for); `error` is the failed
    task's own error line (`DataValidationError: ...`).
    """

    task: str
    ended: bool = False
    seconds: float = 0.0
    ok: bool = True
    error: str | None = None


Progress = Callable[[TaskEvent], None]


class ConsoleProgress:
    """Shows a local run's tasks on a rich console: a line when each ends (name, duration,
    outcome, a failed task's error); while tasks run (a parallel-for's run side by side), a
    spinner with the elapsed time of each on a terminal, else (logs, CI) a line when each
    starts."""

    def __init__(self, console: Console, indent: str = "  ", live: bool | None = None) -> None:
        self.console = console
        self.indent = indent
        self.live = console.is_terminal if live is None else live
        self._lock = threading.Lock()
        self._spinner: Any = None
        self._running: dict[str, Any] = {}

    def __call__(self, event: TaskEvent) -> None:
        from rich.markup import escape

        name = escape(event.task)
        with self._lock:
            if not event.ended:
                if not self.live:
                    self.console.print(f"{self.indent}[cyan]>[/] {name} started")
                    return
                if self._spinner is None:
                    from rich.progress import (
                        Progress,
                        SpinnerColumn,
                        TextColumn,
                        TimeElapsedColumn,
                    )

                    self._spinner = Progress(
                        SpinnerColumn(),
                        TextColumn(self.indent + "{task.description}"),
                        TimeElapsedColumn(),
                        console=self.console,
                        transient=True,
                    )
                    self._spinner.start()
                self._running[event.task] = self._spinner.add_task(name)
                return
            if event.task in self._running:
                self._spinner.remove_task(self._running.pop(event.task))
            if event.ok:
                line = f"{self.indent}[green]✓[/] {name}  {event.seconds:.1f} s"
            else:
                line = (
                    f"{self.indent}[red]✗ {name} failed[/] after {event.seconds:.1f} s: "
                    f"{escape(event.error or '')}"
                )
            self.console.print(line)
            if self._spinner is not None and not self._running:
                self._spinner.stop()
                self._spinner = None


def _unredirected(progress: Progress | None, out: TextIO) -> Progress | None:
    """Progress reaches the caller's stdout even though the run redirects it into the log
    (where it would be swallowed when the logs are not echoed)."""
    if progress is None:
        return None

    def say(event: TaskEvent) -> None:
        with redirect_stdout(out):
            progress(event)

    return say


@contextmanager
def _task_hooks(log: _Tee, progress: Progress | None, tasks: WarmTasks | None) -> Iterator[None]:
    """Hook into KFP's local runner for the length of one run.

    KFP 2.17 has no callback for task progress and no way to plug in how a task process
    starts, so the two module functions it calls for that are wrapped here:
    `task_dispatcher.run_single_task_implementation` (one call per task, with its name and
    outcome) and `subprocess_task_handler.run_local_subprocess` (the task's command). The
    tests fail if a KFP upgrade renames either (tests/pipelines/test_local_runs.py).
    """
    from kfp.local import executor_input_utils, subprocess_task_handler, task_dispatcher

    run_task = task_dispatcher.run_single_task_implementation
    run_process = subprocess_task_handler.run_local_subprocess
    seen: dict[str, int] = {}

    def observed(*args: Any, **kwargs: Any) -> Any:
        component = kwargs["component_name"] if "component_name" in kwargs else args[1]
        base = executor_input_utils.get_local_task_resource_name(component)
        seen[base] = seen.get(base, 0) + 1
        label = base if seen[base] == 1 else f"{base} #{seen[base]}"
        say = progress or (lambda _event: None)
        say(TaskEvent(label))
        mark = len(log.lines)
        started = time.perf_counter()
        try:
            outputs, status = run_task(*args, **kwargs)
        except BaseException:
            say(
                TaskEvent(
                    label,
                    True,
                    time.perf_counter() - started,
                    False,
                    log.last_error(since=mark) or "failed",
                )
            )
            raise
        ok = status.name == "SUCCESS"
        say(
            TaskEvent(
                label,
                True,
                time.perf_counter() - started,
                ok,
                None if ok else log.last_error(since=mark) or "failed",
            )
        )
        return outputs, status

    def process(full_command: list[str], env_vars: dict[str, str] | None = None) -> int:
        request = _task_request(full_command)
        if tasks is not None and request is not None and tasks.ready():
            code = tasks.run(*request, env={**os.environ, **(env_vars or {})})
            if code is not None:
                return code
        return int(run_process(full_command, env_vars))

    task_dispatcher.run_single_task_implementation = observed
    subprocess_task_handler.run_local_subprocess = process
    try:
        yield
    finally:
        task_dispatcher.run_single_task_implementation = run_task
        subprocess_task_handler.run_local_subprocess = run_process


# The command KFP 2.17 gives a lightweight component without packages to install, once
# the local runner has put this interpreter in place of `python3`; `$0` is the
# component's source and `$@` the executor's arguments.
TASK_SCRIPT = (
    'program_path=$(mktemp -d) printf "%s" "$0" > "$program_path/ephemeral_component.py" '
    "_KFP_RUNTIME=true {python} -m kfp.dsl.executor_main --component_module_path "
    '"$program_path/ephemeral_component.py" "$@"'
)


def _task_request(full_command: Sequence[str]) -> tuple[str, list[str]] | None:
    """(source, arguments) of a task the warm server can run; None for any other command
    (e.g. one that installs packages first), which then runs as KFP would run it."""
    if len(full_command) < 4 or list(full_command[:2]) != ["sh", "-ec"]:
        return None
    if " ".join(full_command[2].split()) != TASK_SCRIPT.format(python=sys.executable):
        return None
    return full_command[3], list(full_command[4:])


class WarmTasks:
    """Client of a warm task server (`mlops.task_server`); see `warm_tasks()`."""

    def __init__(self, process: subprocess.Popen[bytes], socket_path: Path) -> None:
        self.process = process
        self.socket_path = socket_path
        self.served = 0
        self._ready = False

    def ready(self, wait: float = 0.0) -> bool:
        """True once the server has imported what the tasks need (waits up to `wait` s).
        Until then tasks run as cold processes, on the other core."""
        if self._ready:
            return self.process.poll() is None
        if self.process.poll() is not None or self.process.stdout is None:
            return False
        if select.select([self.process.stdout], [], [], wait)[0]:
            line = self.process.stdout.readline()
            self._ready = line.startswith(b'{"ready": true')
        return self._ready

    def run(self, source: str, args: list[str], env: Mapping[str, str]) -> int | None:
        """Run one task; its output is printed line by line as KFP prints a task's. None
        when the server is gone before the task started (it then runs as a cold process);
        a server lost during the task fails the task (exit code 1)."""
        request = {"source": source, "args": args, "env": dict(env), "cwd": os.getcwd()}
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            try:
                conn.connect(str(self.socket_path))
                conn.sendall(json.dumps(request).encode() + b"\n")
            except OSError:
                self._ready = False
                self.process.poll()
                return None
            code = 1
            with conn.makefile("rb") as reader:
                for raw in reader:
                    if raw.startswith(TRAILER):
                        code = int(raw[len(TRAILER) :])
                        break
                    print(raw.decode(errors="replace"), end="")
            print("\n")
        self.served += 1
        return code

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        shutil.rmtree(self.socket_path.parent, ignore_errors=True)


@contextmanager
def warm_tasks(preload: Sequence[str] = ()) -> Iterator[WarmTasks]:
    """Start a warm task server for the runs inside the block; it ends with the block
    (or with this process). `preload`: modules to import (default: the pipelines')."""
    folder = Path(tempfile.mkdtemp(prefix="mlops-tasks-"))  # mode 0700: ours alone
    socket_path = folder / "socket"
    process = subprocess.Popen(
        [sys.executable, "-m", "mlops.task_server", str(socket_path), *preload],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    tasks = WarmTasks(process, socket_path)
    try:
        yield tasks
    finally:
        tasks.close()


def submit(
    name: str,
    host: str,
    *,
    namespace: str | None = None,
    experiment: str | None = None,
    params: Mapping[str, Any] | None = None,
    image: str | None = None,
    team: str | None = None,
    timeout: float = 10.0,
) -> str:
    """Compile and submit pipeline `name` to the Kubeflow Pipelines API at `host`.

    With `team`, the run executes as the team's runner (``pipeline-runner-<team>``: its IAM
    role reaches the team's prefix) and its tasks read the team's ConfigMap and Secret (its
    MLflow workspace and pipeline user); the pipeline's ``team`` parameter, if it has one,
    is the team.

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
        package = compile_pipeline(name, Path(tmp), image, team=team)
        try:
            client = kfp.Client(host=host, namespace=namespace)
            run = client.create_run_from_pipeline_package(
                str(package),
                arguments=team_params(name, params or {}, team),
                experiment_name=experiment or "Default",
                namespace=namespace,
                # None: the runner KFP's deployment names (the shared one)
                service_account=teams.kfp_runner(team) if team else None,
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
        raise PipelineRunError(
            f"Kubeflow Pipelines at {host} is unreachable: {type(exc).__name__}"
        ) from None
