"""Promotion and rollback against a real MLflow server (SQLite and PostgreSQL backends)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import pytest

from mlops.local.platform import LocalPlatform
from mlops_runtime import model_ops
from mlops_runtime.model_ops import CHALLENGER, CHAMPION, PREVIOUS_CHAMPION, PromotionError
from pipelines.data import default_holdout, load_dataset, model_frame, split_holdout
from pipelines.settings import LABEL

# Three forests of clearly different quality on the sample's holdout set.
QUALITIES = {
    "weak": {"n_estimators": 1, "max_depth": 1},
    "medium": {"n_estimators": 2, "max_depth": 2},
    "strong": {"n_estimators": 30, "max_depth": 6},
}


@pytest.fixture
def logged(server: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Log the three models once per server; returns their URIs."""
    for key, value in server.env().items():
        if key != "MLOPS_LOCAL_STATE_DIR":
            monkeypatch.setenv(key, value)
    cache: dict[str, dict[str, Any]] = _LOGGED
    if server.mlflow_uri not in cache:
        from pipelines.training import train_and_log

        train = model_frame(split_holdout(load_dataset(), 0.25, 7)[0])
        cache[server.mlflow_uri] = {
            q: train_and_log(train, p, "promotion-tests") for q, p in QUALITIES.items()
        }
    return cache[server.mlflow_uri]


_LOGGED: dict[str, dict[str, Any]] = {}


def _register(name: str, logged: dict[str, Any], *qualities: str) -> list[str]:
    import mlflow

    return [str(mlflow.register_model(logged[q]["model_uri"], name).version) for q in qualities]


def _evaluator(client: Any, name: str) -> model_ops.Evaluator:
    return model_ops.holdout_evaluator(client, name, default_holdout(), LABEL, "roc_auc")


def test_first_promotion_then_better_then_worse(logged: dict[str, Any]) -> None:
    client = model_ops.client_from_env()
    name = f"m-{uuid.uuid4().hex[:8]}"
    weak, strong, medium = _register(name, logged, "weak", "strong", "medium")
    evaluate = _evaluator(client, name)
    assert evaluate(weak) < evaluate(medium) < evaluate(strong)

    first = model_ops.promote(
        client, name, evaluate, version=weak, approver="ana", reason="bootstrap"
    )
    assert first.action == "promote" and first.previous_champion is None
    assert model_ops.alias_version(client, name, CHAMPION) == weak

    client.set_registered_model_alias(name, CHALLENGER, strong)
    better = model_ops.promote(client, name, evaluate, approver="ana", reason="weekly retrain")
    assert better.action == "promote" and better.version == strong
    assert model_ops.alias_version(client, name, CHAMPION) == strong
    assert model_ops.alias_version(client, name, PREVIOUS_CHAMPION) == weak
    tags = client.get_model_version(name, strong).tags
    assert tags["mlops.promotion.decision"] == "promote"
    assert tags["mlops.promotion.approver"] == "ana"
    assert tags["mlops.promotion.reason"] == "weekly retrain"
    assert float(tags["mlops.promotion.metric.roc_auc"]) == pytest.approx(
        evaluate(strong), abs=1e-5
    )
    assert tags["mlops.previous_champion"] == weak

    # A worse challenger never moves the champion, whatever the margin asked for.
    worse = model_ops.promote(client, name, evaluate, version=medium, approver="bob")
    assert worse.action == "reject"
    assert "improvement" in worse.reason and "roc_auc" in worse.reason
    assert model_ops.alias_version(client, name, CHAMPION) == strong
    assert client.get_model_version(name, medium).tags["mlops.promotion.decision"] == "reject"

    trail = model_ops.audit_trail(client, name)
    assert [(e["action"], e["version"]) for e in trail] == [
        ("promote", weak),
        ("promote", strong),
        ("reject", medium),
    ]


def test_min_improvement_and_rollback(logged: dict[str, Any]) -> None:
    client = model_ops.client_from_env()
    name = f"m-{uuid.uuid4().hex[:8]}"
    weak, medium, strong = _register(name, logged, "weak", "medium", "strong")
    evaluate = _evaluator(client, name)
    model_ops.promote(client, name, evaluate, version=weak)
    gain = evaluate(medium) - evaluate(weak)
    refused = model_ops.promote(
        client, name, evaluate, version=medium, min_improvement=gain + 0.001
    )
    assert refused.action == "reject" and model_ops.alias_version(client, name, CHAMPION) == weak
    model_ops.promote(client, name, evaluate, version=medium, min_improvement=gain / 2)
    model_ops.promote(client, name, evaluate, version=strong)
    assert model_ops.alias_version(client, name, CHAMPION) == strong

    back = model_ops.rollback(client, name, approver="oncall", reason="latency regression")
    assert back.version == medium and back.previous_champion == strong
    assert model_ops.alias_version(client, name, CHAMPION) == medium
    # The restored champion's own predecessor becomes the next rollback target.
    assert model_ops.alias_version(client, name, PREVIOUS_CHAMPION) == weak
    model_ops.rollback(client, name)
    assert model_ops.alias_version(client, name, CHAMPION) == weak
    assert model_ops.alias_version(client, name, PREVIOUS_CHAMPION) is None
    with pytest.raises(PromotionError, match="no 'previous-champion'"):
        model_ops.rollback(client, name)
    assert model_ops.audit_trail(client, name)[-1]["action"] == "rollback"


def test_errors_name_the_problem(logged: dict[str, Any]) -> None:
    client = model_ops.client_from_env()
    name = f"m-{uuid.uuid4().hex[:8]}"
    with pytest.raises(PromotionError, match="not found"):
        model_ops.promote(client, name, lambda v: 0.0)
    (weak,) = _register(name, logged, "weak")
    with pytest.raises(PromotionError, match="no 'challenger' alias"):
        model_ops.promote(client, name, lambda v: 0.0)
    with pytest.raises(PromotionError, match="no version '99'"):
        model_ops.promote(client, name, lambda v: 0.0, version="99")
    with pytest.raises(PromotionError, match="unknown metric"):
        model_ops.promote(client, name, lambda v: 0.0, version=weak, metric="vibes")
    with pytest.raises(PromotionError, match=">= 0"):
        model_ops.promote(client, name, lambda v: 0.0, version=weak, min_improvement=-1)


# The lock relies on each backend store's unique constraint: race on both.
BOTH_BACKENDS = pytest.mark.parametrize("server", ["sqlite", "postgres"], indirect=True)


@BOTH_BACKENDS
def test_concurrent_promotions_end_with_best_champion(logged: dict[str, Any]) -> None:
    """Two promotions race; the slow evaluation widens the window in which, without the
    lock, both would read the old champion and the last writer (possibly the worse model)
    would win."""
    client = model_ops.client_from_env()
    name = f"m-{uuid.uuid4().hex[:8]}"
    weak, strong, medium = _register(name, logged, "weak", "strong", "medium")
    real = _evaluator(client, name)
    model_ops.promote(client, name, real, version=weak)
    for v in (weak, strong, medium):
        real(v)  # load once, so both threads spend their time in the window below

    barrier = threading.Barrier(2)

    def slow(version: str) -> float:
        time.sleep(0.5)
        return real(version)

    results: dict[str, Any] = {}

    def run(version: str) -> None:
        own = model_ops.client_from_env()
        barrier.wait()
        results[version] = model_ops.promote(
            own, name, slow, version=version, approver=f"thread-{version}"
        )

    threads = [threading.Thread(target=run, args=(v,)) for v in (strong, medium)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert set(results) == {strong, medium}
    assert model_ops.alias_version(client, name, CHAMPION) == strong
    trail = model_ops.audit_trail(client, name)
    assert len(trail) == 3 and len({e["key"] for e in trail}) == 3
    # The trail is a chain: each promotion names the champion it replaced.
    champion = weak
    for entry in trail[1:]:
        assert entry["previous_champion"] == champion
        if entry["action"] == "promote":
            champion = entry["version"]
    assert champion == strong
    # The lock is gone once both are done.
    assert not client.search_registered_models(f"name = '{name}{model_ops.LOCK_SUFFIX}'")


@pytest.mark.long
@BOTH_BACKENDS
def test_concurrent_cli_promotions_in_two_processes(
    logged: dict[str, Any], server: LocalPlatform
) -> None:
    client = model_ops.client_from_env()
    name = f"m-{uuid.uuid4().hex[:8]}"
    weak, strong, medium = _register(name, logged, "weak", "strong", "medium")
    model_ops.promote(client, name, _evaluator(client, name), version=weak)
    mlops = os.path.join(os.path.dirname(sys.executable), "mlops")
    procs = [
        subprocess.Popen(
            [
                mlops,
                "model",
                "promote",
                name,
                "--version",
                v,
                "--approver",
                "ci",
                "--reason",
                f"race {v}",
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "MLFLOW_TRACKING_URI": server.mlflow_uri},
        )
        for v in (medium, strong)
    ]
    outcomes = [p.communicate(timeout=120) for p in procs]
    codes = [p.returncode for p in procs]
    assert all(code in (0, 3) for code in codes), outcomes
    decisions = [json.loads(out) for out, _ in outcomes]
    assert model_ops.alias_version(client, name, CHAMPION) == strong
    assert {d["version"] for d in decisions} == {medium, strong}
    assert len(model_ops.audit_trail(client, name)) == 3
