"""The offline plan: run a Pulumi program under mocks (and moto) and record its graph.

`plan_environment("prod")` returns the `mlops plan --json` contract (README.md,
docs/architecture.md's contracts) as a dict. The same engine plans any Pulumi Python program
(`plan_program`), which is what `mlops policy check --program` uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import runpy
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.engine import aws_worker, internals
from mlops.engine.fakes import Ctx
from mlops.engine.run_semantics import missing_paths, program_dir
from mlops.engine.stack_config import (
    Project,
    StackConfig,
    available_stacks,
    load_project,
    load_stack_config,
)
from mlops.errors import PlanError, UsageError
from mlops.paths import PACKAGE_DIR, project_root

if TYPE_CHECKING:
    from mlops.engine.aws_backend import Backend


def _quiet_logger() -> logging.Logger:
    logger = logging.getLogger("mlops.plan.engine")
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    return logger


def _region_of(values: dict[str, Any]) -> str:
    platform = values.get("mlops-platform:platform")
    if isinstance(platform, dict) and isinstance(platform.get("region"), str):
        return platform["region"]
    region = values.get("aws:region")
    return region if isinstance(region, str) else aws_worker.DEFAULT_REGION


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """What the program prints goes to stderr (Python's and the file descriptor's), so
    the command's own stdout (`--json`) stays one document."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no stdout at all
        saved = None
    if saved is not None:
        os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


@contextlib.contextmanager
def _program_env(cwd: Path) -> Iterator[None]:
    """cwd and environment as the Pulumi language host would set them, restored after.

    The caller's AWS settings are hidden too: an AWS_ENDPOINT_URL (say, of the local
    platform's S3) or a profile would send moto's calls elsewhere or to a real account.
    DeprecationWarnings that the SDKs raise while loading are not the user's to act on.
    The program's output goes to stderr (`_stdout_to_stderr`).
    """
    old_cwd = Path.cwd()
    hidden = [
        "PULUMI_CONFIG",
        "PULUMI_CONFIG_SECRET_KEYS",
        *(k for k in os.environ if k.startswith("AWS_")),
    ]
    old_env = {k: os.environ.get(k) for k in hidden}
    old_path = list(sys.path)
    for k in old_env:
        os.environ.pop(k, None)
    os.chdir(cwd)
    try:
        with warnings.catch_warnings(), _stdout_to_stderr():
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path
        for k, v in old_env.items():
            if v is not None:
                os.environ[k] = v


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


Inspect = Callable[["Backend"], None]
Verdict = Callable[[], list[str]]  # moto's refusals of one plan (at most one)


def _execute(
    config: StackConfig,
    program: Callable[[], None],
    use_moto: bool,
    inspect: Inspect | None = None,
    deferred: list[Verdict] | None = None,
) -> dict[str, Any]:
    # Pulumi's runtime is imported here, after `plan_environment` has started the helper
    # processes, so that they load while this one does.
    from pulumi.runtime import set_all_config, set_mocks
    from pulumi.runtime.stack import run_in_stack

    from infra.config import ConfigError  # the blueprint's own config errors are usage errors
    from mlops.engine.aws_backend import Backend
    from mlops.engine.mocks import PlanMocks, RecordingMonitor

    sync_await = internals.sync_await()
    ctx = Ctx(stack=config.stack, region=_region_of(config.values))
    # moto runs in the helper process (aws_worker), beside the plan (a speed-up); a test
    # that inspects what AWS would hold, or a plan with the speed-ups off, gets it here
    here = inspect is not None or not internals.speedups_on()
    local = Backend(ctx) if use_moto and here else None
    remote = aws_worker.session(ctx) if use_moto and local is None else None
    mocks = PlanMocks(ctx, local or remote)
    monitor = RecordingMonitor(mocks)

    def run() -> None:
        # a loop of its own per plan, so a failed plan cannot leak tasks into the next
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        set_mocks(
            mocks,
            project=config.project.name,
            stack=config.stack,
            preview=False,
            logger=_quiet_logger(),
            monitor=monitor,
        )
        set_all_config(config.as_pulumi_config(), list(config.secret_keys))
        internals.reset_stack_state()
        try:
            sync_await(run_in_stack(program))
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            # join the worker threads now, so the loops the mock monitor opened in
            # them are collected while the interpreter is still whole
            loop.run_until_complete(loop.shutdown_default_executor())
            monitor.close_thread_loops()
            loop.close()
            asyncio.set_event_loop(None)

    rejected: list[str] = []
    verdict: Verdict = list  # moto's refusals; none without the helper
    cwd = program_dir(config.project.root, config.project.main)
    with (
        _program_env(cwd),
        internals.planning(),
        local or contextlib.nullcontext(),
    ):
        try:
            try:
                contextvars.Context().run(run)
            finally:
                if remote is not None:
                    verdict = remote.end()
        except ConfigError as exc:
            where = config.project.stack_config_dir / f"Pulumi.{config.stack}.yaml"
            raise UsageError(f"{where.relative_to(config.project.root)}: {exc}") from None
        except PlanError:
            raise
        except SystemExit as exc:  # a BaseException: `except Exception` would let it end the CLI
            raise PlanError(
                f"the program called sys.exit({exc.code!r}) while it was planned: "
                "a Pulumi program must not exit"
            ) from None
        except Exception as exc:
            rejected = verdict()  # a refusal explains a failure better than its effect
            if mocks.errors or rejected:
                raise PlanError([*mocks.errors, *rejected][0]) from None
            raise PlanError(f"the program failed: {_first_line(exc)}") from None
        if mocks.errors:
            raise PlanError(mocks.errors[0])
        shown = f"{cwd.relative_to(config.project.root.resolve()).as_posix()}/"
        if missing := missing_paths(monitor.recorded.values(), cwd, shown):
            raise PlanError(missing[0])
        if deferred is not None:
            deferred.append(verdict)  # the caller waits for it, after planning more
        elif rejected := verdict():
            raise PlanError(rejected[0])
        if inspect is not None and local is not None:
            inspect(local)  # tests ask moto what AWS would now hold

    resources = [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "custom": r.custom,
            "inputs": r.inputs,
            "dependencies": r.dependencies,
            "propertyDependencies": r.property_dependencies,
            "protect": r.protect,
        }
        for r in sorted(monitor.recorded.values(), key=lambda r: r.urn)
    ]
    return {
        "environment": config.stack,
        "resources": resources,
        "outputs": monitor.stack_outputs,
        "_states": {r.urn: r.state for r in monitor.recorded.values()},
        "_providers": {r.urn: r.provider for r in monitor.recorded.values() if r.provider},
        "_pack_inputs": {
            r.urn: r.pack_inputs for r in monitor.recorded.values() if r.pack_inputs is not None
        },
        "_cwd": str(cwd),
        "_moto_types": sorted(mocks.moto_types),
    }


def plan_stack(
    config: StackConfig,
    *,
    use_moto: bool = True,
    inspect: Inspect | None = None,
    deferred: list[Verdict] | None = None,
) -> dict[str, Any]:
    """Plan an already-loaded stack configuration (no policies or cost attached).

    With ``deferred``, moto's verdict is appended there instead of awaited.
    """
    main = config.project.main
    if not (main / "__main__.py").is_file():
        raise UsageError(f"{main}: no __main__.py (the Pulumi program to plan)")

    def program() -> None:
        runpy.run_path(str(main), run_name="__main__")

    plan = _execute(config, program, use_moto, inspect, deferred)
    from mlops.checks.run import refusals

    if found := refusals(plan):
        raise PlanError(found[0])
    return plan


def plan_function(
    program: Callable[[], None],
    *,
    stack: str = "test",
    config: dict[str, Any] | None = None,
    inspect: Inspect | None = None,
) -> dict[str, Any]:
    """Plan a Python callable as a Pulumi program: how one component is built alone.

    ``config`` holds the stack's config values (``{"mlops-platform:x": ...}``). With
    ``inspect``, moto checks every AWS resource in this process and is handed to
    ``inspect`` before it is torn down; without it nothing checks AWS semantics.
    No policies or cost are attached.
    """
    root = project_root()
    # a component runs where the platform's program does: infra/, Pulumi.yaml's `main`
    project = Project(
        name="mlops-platform", root=root, main=root / "infra", stack_config_dir=root, defaults={}
    )
    stack_config = StackConfig(project, stack, dict(config or {}), ())
    return _execute(stack_config, program, inspect is not None, inspect)


def plan_environment(
    env: str,
    root: Path | None = None,
    *,
    config_file: Path | None = None,
    inspect: Inspect | None = None,
) -> dict[str, Any]:
    """Plan one environment of this project, with policy results and cost attached.

    ``inspect`` is called with the moto backend before it is torn down.
    """
    project = load_project(root or project_root())
    config = load_stack_config(project, env, config_file)
    # the pack evaluates the plan while moto finishes checking it in its helper
    waiting: list[Verdict] = []
    plan, runner = _plan_beside_helpers(config, inspect=inspect, deferred=waiting)
    try:
        result = finish(plan, policy_env=env, runner=runner)
    finally:
        _settle(waiting)  # moto's refusal comes first: the plan itself failed
    _check_ci_identity(result, project, config)
    return result


def _check_ci_identity(plan: dict[str, Any], project: Project, config: StackConfig) -> None:
    """The workflows' OIDC subjects against the CI role's trust, and what the deployer may
    do (mlops/checks/ci.py): an environment's plan only, the workflows are the project's.
    And which stacks of one account create GitHub's OIDC provider: this one (as planned)
    and the project's others (their stack files)."""
    from mlops.checks.ci import check_ci_identity, check_oidc_provider_owners

    check_ci_identity(plan, project.root, project.stack_config_dir)
    key = f"{project.name}:platform"
    configs = {
        stack: load_stack_config(project, stack).values.get(key)
        for stack in available_stacks(project)
        if stack != config.stack
    }
    configs[config.stack] = config.values.get(key)
    owners: dict[str, tuple[str | None, bool]] = {}
    for stack, found in configs.items():
        raw: dict[str, Any] = found if isinstance(found, dict) else {}
        ci: dict[str, Any] = raw["ci"] if isinstance(raw.get("ci"), dict) else {}
        account = raw.get("account_id")
        owners[stack] = (
            str(account) if account is not None else None,
            ci.get("create_oidc_provider") is True,
        )
    check_oidc_provider_owners(owners)


def _settle(waiting: list[Verdict]) -> None:
    """Wait for moto's verdicts in order; the first refusal fails the plan."""
    verdicts, waiting[:] = list(waiting), []
    for verdict in verdicts:
        if rejected := verdict():
            raise PlanError(rejected[0])


def _plan_beside_helpers(
    config: StackConfig,
    *,
    inspect: Inspect | None = None,
    deferred: list[Verdict] | None = None,
) -> tuple[dict[str, Any], subprocess.Popen[str]]:
    """Plan with moto's helper (unless moto is inspected here) and the pack's runner
    started first, so they load while this process imports; the runner goes to `finish`."""
    from mlops.policy_check import spawn_runner

    if inspect is None:
        aws_worker.start(_region_of(config.values))
    runner = spawn_runner(PACKAGE_DIR.parent)
    try:
        return plan_stack(config, inspect=inspect, deferred=deferred), runner
    except BaseException:
        runner.kill()
        runner.communicate()
        raise


def plan_environments(envs: Sequence[str], root: Path | None = None) -> dict[str, dict[str, Any]]:
    """Plan several environments of this project, policies and cost attached.

    moto finishes checking each environment in its helper while the next one plans; a
    refusal fails the call with the same message, and for the same environment, as
    planning them one by one would.
    """
    project = load_project(root or project_root())
    finished: dict[str, Future[dict[str, Any]]] = {}
    waiting: list[Verdict] = []
    # the pack evaluates each plan in its own process while the next one plans
    with ThreadPoolExecutor(max_workers=len(envs) or 1) as pool:
        try:
            for env in envs:
                config = load_stack_config(project, env)
                plan, runner = _plan_beside_helpers(config, deferred=waiting)
                finished[env] = pool.submit(finish, plan, policy_env=env, runner=runner)
        except BaseException:
            _settle(waiting)  # an earlier environment's refusal comes first, as one by one
            raise
        _settle(waiting)
        plans = {env: future.result() for env, future in finished.items()}
    for env, plan in plans.items():
        _check_ci_identity(plan, project, load_stack_config(project, env))
    return plans


def program_config(
    program_dir: Path, *, stack: str = "dev", config_file: Path | None = None
) -> StackConfig:
    """The stack config of any Pulumi Python program directory (one holding Pulumi.yaml)."""
    if not (program_dir / "Pulumi.yaml").is_file():
        raise UsageError(f"{program_dir}: not a Pulumi project (no Pulumi.yaml)")
    project = load_project(program_dir.resolve())
    return (
        load_stack_config(project, stack, config_file)
        if (config_file or (project.stack_config_dir / f"Pulumi.{stack}.yaml").is_file())
        else StackConfig(project, stack, dict(project.defaults), ())
    )


def plan_program(
    program_dir: Path, *, stack: str = "dev", config_file: Path | None = None
) -> dict[str, Any]:
    """Plan any Pulumi Python program directory (one holding Pulumi.yaml), in this process.

    `mlops policy check --program` plans in a process of its own (`isolated`).
    """
    return finish(plan_stack(program_config(program_dir, stack=stack, config_file=config_file)))


def finish(
    plan: dict[str, Any],
    policy_env: str | None = None,
    runner: subprocess.Popen[str] | None = None,
) -> dict[str, Any]:
    """Attach the cost estimate and, for an environment, the policy results.

    The pack and its venv are this checkout's (next to the `mlops` package), so a
    base ref planned by `mlops review` is judged by the same rules as the head.
    """
    from mlops.cost import estimate

    plan["cost"] = estimate(plan)
    if policy_env is not None:
        from mlops.policy_check import evaluate

        plan["policies"] = evaluate(plan, policy_env, PACKAGE_DIR.parent, runner=runner)
    return plan


def public(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan without engine-internal keys (those starting with '_')."""
    return {k: v for k, v in plan.items() if not k.startswith("_")}
