"""The engine's reach into private internals: checked, and its speed-ups switchable."""

from __future__ import annotations

import gc
import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from plans import ENVIRONMENTS

from mlops.engine import internals
from mlops.errors import UsageError

ROOT = Path(__file__).resolve().parents[3]


def _plan_json(env: str, speedups: str) -> str:
    """`mlops plan ENV --json` in a process of its own, so the switch reaches everything
    a plan's process does (provider imports, moto's helper, the exit)."""
    environ = {**os.environ, internals.SWITCH: speedups, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", "from mlops.cli import main; main()", "plan", env, "--json"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.long
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_plans_the_same_with_the_speedups_off(env: str) -> None:
    on, off = _plan_json(env, "1"), _plan_json(env, "0")
    assert json.loads(on)["resources"], "an empty plan proves nothing"
    assert on == off


def test_the_switch_turns_the_speedups_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi.runtime import resource

    monkeypatch.setenv(internals.SWITCH, "0")
    original = resource._get_stack_trace
    assert gc.isenabled()
    with internals.planning():
        assert resource._get_stack_trace is original
        assert gc.isenabled()
        assert sys.meta_path[0].__class__.__module__ != "mlops.engine.lazy_providers"
    assert internals.parsed_json("/no/such/file", lambda: {"parsed": True}) == {"parsed": True}
    assert internals.short_lived_process() is False

    monkeypatch.setenv(internals.SWITCH, "1")
    with internals.planning():
        assert resource._get_stack_trace is not original
        assert not gc.isenabled()
        assert sys.meta_path[0].__class__.__module__ == "mlops.engine.lazy_providers"
    assert resource._get_stack_trace is original
    assert gc.isenabled()


def test_the_switch_takes_only_0_or_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(internals.SWITCH, "off")
    with pytest.raises(UsageError, match="MLOPS_PLAN_SPEEDUPS must be 0 or 1, not 'off'"):
        internals.speedups_on()
    done = subprocess.run(
        [sys.executable, "-c", "from mlops.cli import main; main()", "plan", "dev"],
        cwd=ROOT,
        env={**os.environ, internals.SWITCH: "yes", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stderr) == (
        2,
        "error: MLOPS_PLAN_SPEEDUPS must be 0 or 1, not 'yes'\n",
    )


def test_a_pulumi_attribute_gone_is_named_with_its_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pulumi.runtime import resource

    monkeypatch.setenv(internals.SWITCH, "1")
    monkeypatch.delattr(resource, "_get_stack_trace")
    version = importlib.metadata.version("pulumi")
    with (
        pytest.raises(internals.InternalsChanged) as caught,
        internals.no_source_positions(),
    ):
        pytest.fail("planned with an internal that is gone")
    assert str(caught.value).startswith(
        f"pulumi {version}: pulumi.runtime.resource._get_stack_trace is gone;"
    )
    assert "MLOPS_PLAN_SPEEDUPS=0" in str(caught.value)  # a speed-up: it can be switched off


def test_a_moto_attribute_gone_fails_before_anything_is_patched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.core import responses
    from moto.kms import utils

    monkeypatch.setenv(internals.SWITCH, "1")
    monkeypatch.setattr(internals, "_SPED_UP", [])  # as in a fresh process
    monkeypatch.delattr(utils, "generate_private_key")
    before = responses.method_names_from_class
    with pytest.raises(internals.InternalsChanged) as caught:
        internals.speed_up_moto()
    version = importlib.metadata.version("moto")
    assert str(caught.value).startswith(
        f"moto {version}: moto.kms.utils.generate_private_key is gone;"
    )
    assert responses.method_names_from_class is before


def test_a_required_internal_reshaped_cannot_be_switched_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pulumi.runtime import settings

    monkeypatch.setattr(settings.SETTINGS, "outputs", [], raising=False)
    monkeypatch.setenv(internals.SWITCH, "0")
    with pytest.raises(internals.InternalsChanged, match=r"outputs is no longer a set") as caught:
        internals.reset_stack_state()
    assert "MLOPS_PLAN_SPEEDUPS" not in str(caught.value)  # the plan needs it either way


def test_moto_refuses_the_same_with_the_speedups_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Off, moto runs in the plan's process instead of its helper: same refusal, same words."""
    from mlops.engine.plan import plan_program
    from mlops.errors import PlanError

    refusals = []
    for speedups in ("1", "0"):
        monkeypatch.setenv(internals.SWITCH, speedups)
        with pytest.raises(PlanError) as caught:
            plan_program(ROOT / "tests" / "fixtures" / "programs" / "bad_iam")
        refusals.append(str(caught.value))
    assert refusals[0] == refusals[1]
    assert refusals[0].startswith("aws:iam/policy:Policy 'broken-policy': MalformedPolicyDocument")
