"""Offline policy check: evaluate the CrossGuard pack on a plan, in the pack's own venv.

The pack needs pulumi-policy >= 1.21 (protobuf 5) and this environment has kfp
(protobuf >= 6.31), so the rules run in ``.venv-policy`` through
``policies/offline.py`` as a subprocess; this module never imports pulumi_policy.
Pack config comes from ``policies/config/<env>.json`` (the file
``pulumi preview --policy-pack-config`` takes) when it exists, else the pack defaults.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from mlops.errors import PlanError, UsageError
from mlops.paths import project_root

POLICY_VENV = ".venv-policy"
RUNNER = Path("policies") / "offline.py"
CONFIG_DIR = Path("policies") / "config"
VENV_TARGET = "venv-policy"


def policy_python(root: Path) -> Path:
    """The pack venv's interpreter; UsageError telling how to create it when missing."""
    python = root / POLICY_VENV / "bin" / "python"
    if not python.is_file():
        raise UsageError(
            f"{POLICY_VENV} is missing: run `make {VENV_TARGET}` to create the "
            "policy pack's environment"
        )
    return python


def pack_config(env: str | None, root: Path, config_file: Path | None = None) -> dict[str, Any]:
    """The pack config for ``env`` (or from ``config_file``); {} when there is none."""
    path = (
        config_file
        if config_file is not None
        else (root / CONFIG_DIR / f"{env}.json" if env else None)
    )
    if path is None or (config_file is None and not path.is_file()):
        return {}
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"{path}: no such policy config file") from None
    except ValueError as exc:
        raise UsageError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object of policy settings")
    return data


def spawn_runner(root: Path) -> subprocess.Popen[str]:
    """Start the pack's runner; it loads the rules, then waits for the plan on stdin.

    Started beside a plan, it is needed only once the plan is done: it runs at a lower
    priority than the plan and moto's helper, which share the cores with it (measured:
    a prod plan's wall time ~0.8x of the same at equal priority).
    """
    nice = shutil.which("nice")
    return subprocess.Popen(
        [*([nice, "-n", "10"] if nice else []), str(policy_python(root)), str(root / RUNNER)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=root,
    )


def pack_resources(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's resources as the pack sees them: where the plan shows a secret or an
    unknown as a placeholder, the inputs the Pulumi engine would hand the analyzer
    (secrets in their envelope, which the rules see in plaintext; unknowns as such), and
    each resource's explicit provider."""
    pack_inputs = plan.get("_pack_inputs") or {}
    providers = plan.get("_providers") or {}
    out = []
    for r in plan.get("resources") or []:
        urn = r.get("urn")
        if urn in pack_inputs or urn in providers:
            # the explicit provider too, as the engine hands it to the analyzer
            r = {
                **r,
                "inputs": pack_inputs.get(urn, r.get("inputs")),
                "provider": providers.get(urn),
            }
        out.append(r)
    return out


def payload(
    resources: list[dict[str, Any]], environment: str, config: dict[str, Any]
) -> dict[str, Any]:
    """The runner's input (policies/offline.py): the format CI hands the base ref's pack."""
    return {"environment": environment, "config": config, "resources": resources}


def run_pack(
    resources: list[dict[str, Any]],
    environment: str,
    config: dict[str, Any],
    root: Path | None = None,
    runner: subprocess.Popen[str] | None = None,
) -> dict[str, Any]:
    """Run ``policies/offline.py`` in the pack venv and return its result object.

    ``runner`` is a process from `spawn_runner`, started early so that its imports
    overlap the planning; without one a new process is started.
    """
    base = root or project_root()
    proc = runner or spawn_runner(base)
    stdout, stderr = proc.communicate(json.dumps(payload(resources, environment, config)))
    if proc.returncode == 2:
        raise UsageError(_first_line(stderr) or "the policy runner rejected its input")
    if proc.returncode != 0:
        raise PlanError(f"the policy runner failed: {_first_line(stderr)}")
    try:
        result = json.loads(stdout)
    except ValueError:
        raise PlanError("the policy runner printed no JSON result") from None
    return dict(result)


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    # a traceback's last line names the error; an `error: ...` line is already one line
    line = lines[-1]
    return line[len("error: ") :] if line.startswith("error: ") else line


def evaluate(
    plan: dict[str, Any],
    env: str,
    root: Path | None = None,
    config_file: Path | None = None,
    runner: subprocess.Popen[str] | None = None,
) -> dict[str, Any]:
    """The ``policies`` object of the plan contract: pack, evaluated, violations."""
    base = root or project_root()
    return run_pack(pack_resources(plan), env, pack_config(env, base, config_file), base, runner)


def check_environments(
    envs: list[str],
    root: Path | None = None,
    payloads: dict[str, dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Plan each of ENVS of this project offline and evaluate the pack on each.

    With ``payloads``, each environment's runner input is put there too.
    """
    from mlops.engine.plan import plan_environments

    base = root or project_root()
    results = {}
    for env, plan in plan_environments(envs, base).items():
        # the plan engine attaches the results; a plan from elsewhere is evaluated here
        results[env] = (
            dict(plan["policies"])
            if isinstance(plan.get("policies"), dict)
            else evaluate(plan, env, base)
        )
        if payloads is not None:
            payloads[env] = payload(pack_resources(plan), env, pack_config(env, base))
    return results


def check_program(
    path: Path,
    config_file: Path | None = None,
    *,
    policy_config: Path | None = None,
    root: Path | None = None,
    payloads: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Plan any Pulumi Python program directory under mocks and evaluate the pack on it.

    The program runs in a process of its own (`mlops.engine.isolated`): what reaches
    the pack is the plan it recorded, checked for shape, nothing else.
    The stack is named by ``config_file`` (``Pulumi.<stack>.yaml``), else ``dev``.
    Policy config: ``policy_config`` when given, else the pack defaults (every rule at
    its default level, mandatory), as ``pulumi preview --policy-pack`` without
    ``--policy-pack-config`` would. With ``payloads``, the runner input is put there too.
    """
    from mlops.engine.isolated import plan_in_own_process

    if not path.is_dir():
        raise UsageError(f"{path}: not a directory")
    if config_file is not None and not config_file.is_file():
        raise UsageError(f"{config_file}: no such config file")
    stack = "dev"
    if (
        config_file is not None
        and config_file.name.startswith("Pulumi.")
        and config_file.suffix in (".yaml", ".yml")
    ):
        stack = config_file.name[len("Pulumi.") : -len(config_file.suffix)] or "dev"
    base = root or project_root()
    config = pack_config(None, base, policy_config)
    # the runner loads the rules while the program is planned
    runner = spawn_runner(base)
    try:
        resources = plan_in_own_process(path, stack=stack, config_file=config_file)
    except BaseException:
        runner.kill()
        runner.communicate()
        raise
    if payloads is not None:
        payloads[stack] = payload(resources, stack, config)
    return run_pack(resources, stack, config, base, runner)


def mandatory_violations(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The violations that block a deployment."""
    return [v for v in result.get("violations", []) if v.get("enforcement") == "mandatory"]
