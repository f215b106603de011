"""Champion/challenger promotion and rollback on the MLflow model registry.

One module that the pipeline's evaluation component and `mlops model` both call, so
the rules are the same wherever a promotion starts:

* The decision compares the challenger with the champion *as it is when the promotion
  holds the lock*, on the same holdout set, so `champion` never moves to a worse model
  even when two promotions race.
* MLflow has no compare-and-set on aliases (`set_registered_model_alias` is an upsert),
  so promotions serialise on a lock built from the one atomic primitive the registry
  has: registered-model names are unique, so creating `<name>.promotion-lock` either
  succeeds for exactly one caller or fails with RESOURCE_ALREADY_EXISTS. After moving
  the alias we re-read it (the "set" half of compare-and-set) and fail loudly if it is
  not what we wrote.
* Every decision (promote, reject, rollback) appends an audit entry as a registered-model
  tag `mlops.audit.<seq>` (JSON) and tags the version, so the trail lives next to the
  model and survives server restarts.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mlops_runtime.errors import MlopsError

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS_CHAMPION = "previous-champion"

AUDIT_PREFIX = "mlops.audit."
TAG_PREFIX = "mlops.promotion."
PREVIOUS_CHAMPION_TAG = "mlops.previous_champion"
LOCK_SUFFIX = ".promotion-lock"
LOCK_TAG = "mlops.lock"

# Direction of each supported metric: True when a larger value is better.
METRICS: dict[str, bool] = {
    "roc_auc": True,
    "accuracy": True,
    "f1": True,
    "precision": True,
    "recall": True,
    "log_loss": False,
}

Evaluator = Callable[[str], float]
"""Scores one model version (given as its version string) on the holdout set."""


class PromotionError(MlopsError):
    """A promotion or rollback that cannot go ahead (missing model, alias, lock...)."""

    exit_code = 1


@dataclass(frozen=True)
class Decision:
    """What a promotion decided and why; also the body of the audit entry."""

    action: str  # "promote" | "reject" | "rollback"
    model_name: str
    version: str
    previous_champion: str | None
    metric: str | None
    score: float | None
    champion_score: float | None
    min_improvement: float | None
    approver: str
    reason: str
    at: str
    actor: str
    audit_key: str = ""

    @property
    def promoted(self) -> bool:
        return self.action in ("promote", "rollback")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def client_from_env(tracking_uri: str | None = None) -> MlflowClient:
    """An MLflow client for `tracking_uri` or `MLFLOW_TRACKING_URI`; the registry is the same."""
    from mlflow import MlflowClient

    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise PromotionError("MLFLOW_TRACKING_URI is not set (run `mlops local up` or export it)")
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _actor() -> str:
    return f"{os.environ.get('USER', 'unknown')}@{socket.gethostname()}:{os.getpid()}"


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "error_code", ""))


def _registered_model(client: MlflowClient, name: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_registered_model(name)
    except MlflowException as exc:
        if "RESOURCE_DOES_NOT_EXIST" in _error_code(exc) or "not found" in str(exc).lower():
            raise PromotionError(f"registered model {name!r} not found") from None
        if "PERMISSION_DENIED" in _error_code(exc) or "403" in str(exc):
            # MLflow's auth app refuses a name that does not exist in the caller's
            # workspace (no resource, no grant): tell that apart from another team's model
            workspace = os.environ.get("MLFLOW_WORKSPACE") or "default"
            if not client.search_registered_models(filter_string=f"name = '{name}'"):
                raise PromotionError(
                    f"registered model {name!r} not found in MLflow workspace {workspace}"
                ) from None
        raise PromotionError(f"cannot read registered model {name!r}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    """The version an alias points at, or None when the alias is not set."""
    aliases = _registered_model(client, name).aliases or {}
    value = aliases.get(alias)
    return str(value) if value is not None else None


@contextmanager
def promotion_lock(
    client: MlflowClient, name: str, timeout: float = 60.0, ttl: float = 300.0
) -> Iterator[str]:
    """Hold the registry-wide promotion lock of model `name`.

    Args:
        client: MLflow client of the registry.
        name: Registered model whose promotions are serialised.
        timeout: Seconds to wait for a busy lock before giving up.
        ttl: Age in seconds after which a lock is considered abandoned (its holder died)
            and may be broken.

    Yields:
        The token written into the lock, for logging.
    """
    from mlflow.exceptions import MlflowException

    lock_name = name + LOCK_SUFFIX
    token = uuid.uuid4().hex
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        try:
            client.create_registered_model(
                lock_name,
                tags={
                    LOCK_TAG: "true",
                    "token": token,
                    "actor": _actor(),
                    "expires": str(time.time() + ttl),
                },
                description=f"Promotion lock of {name}; deleted when the promotion ends.",
            )
            break
        except MlflowException as exc:
            if "RESOURCE_ALREADY_EXISTS" not in _error_code(exc):
                raise PromotionError(
                    f"cannot take the promotion lock: {_first_line(exc)}"
                ) from None
        _break_if_stale(client, lock_name)
        if time.monotonic() > deadline:
            raise PromotionError(f"another promotion of {name!r} holds {lock_name!r}; retry later")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
    try:
        yield token
    finally:
        try:
            held = client.get_registered_model(lock_name)
            # Only delete our own lock: a holder that overran its TTL may have lost it.
            if held.tags.get("token") == token:
                client.delete_registered_model(lock_name)
        except MlflowException:
            pass


def _break_if_stale(client: MlflowClient, lock_name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        held = client.get_registered_model(lock_name)
        if float(held.tags.get("expires", "inf")) < time.time():
            client.delete_registered_model(lock_name)
    except MlflowException:
        pass  # released between our create and this read: the next create will tell


def _next_audit_key(client: MlflowClient, name: str) -> str:
    tags = _registered_model(client, name).tags or {}
    seqs = [
        int(k[len(AUDIT_PREFIX) :])
        for k in tags
        if k.startswith(AUDIT_PREFIX) and k[len(AUDIT_PREFIX) :].isdigit()
    ]
    return f"{AUDIT_PREFIX}{(max(seqs) + 1) if seqs else 1:06d}"


def _record(client: MlflowClient, decision: Decision) -> Decision:
    key = _next_audit_key(client, decision.model_name)
    decision = Decision(**{**decision.to_dict(), "audit_key": key})
    body = {k: v for k, v in decision.to_dict().items() if k != "audit_key"}
    client.set_registered_model_tag(decision.model_name, key, json.dumps(body, sort_keys=True))
    return decision


def audit_trail(client: MlflowClient, name: str) -> list[dict[str, Any]]:
    """Every recorded decision of model `name`, oldest first."""
    tags = _registered_model(client, name).tags or {}
    return [
        {"key": k, **json.loads(v)} for k, v in sorted(tags.items()) if k.startswith(AUDIT_PREFIX)
    ]


def improvement(metric: str, challenger: float, champion: float) -> float:
    """How much better the challenger is (positive) or worse (negative), metric-aware."""
    if metric not in METRICS:
        raise PromotionError(f"unknown metric {metric!r}; one of: {', '.join(sorted(METRICS))}")
    delta = challenger - champion
    return delta if METRICS[metric] else -delta


def promote(
    client: MlflowClient,
    name: str,
    evaluate: Evaluator,
    *,
    version: str | None = None,
    metric: str = "roc_auc",
    min_improvement: float = 0.0,
    approver: str = "",
    reason: str = "",
    lock_timeout: float = 60.0,
) -> Decision:
    """Promote a challenger to champion if it beats the champion by `min_improvement`.

    Args:
        client: MLflow client of the registry.
        name: Registered model name.
        evaluate: Scores a version on the holdout set with `metric`; called under the lock
            for the champion so it is always the current one.
        version: Version to promote; default the version aliased `challenger`.
        metric: Metric name, one of `METRICS`.
        min_improvement: Smallest improvement (in metric units, direction-aware) needed.
        approver: Who approved; recorded on the version and in the audit trail.
        reason: Why; recorded likewise. A rejection records its own reason.
        lock_timeout: Seconds to wait for a concurrent promotion to finish.

    Returns:
        The decision, already recorded (aliases moved when promoted).

    Raises:
        PromotionError: Unknown model/version/metric, no challenger, or the lock is busy.
    """
    if metric not in METRICS:
        raise PromotionError(f"unknown metric {metric!r}; one of: {', '.join(sorted(METRICS))}")
    if min_improvement < 0:
        raise PromotionError(
            "--min-improvement must be >= 0: a negative margin admits worse models"
        )
    _registered_model(client, name)
    if version is None:
        version = alias_version(client, name, CHALLENGER)
        if version is None:
            raise PromotionError(f"model {name!r} has no {CHALLENGER!r} alias; pass --version")
    _model_version(client, name, version)
    # Scoring the challenger needs no lock: it does not change while others promote.
    score = float(evaluate(version))
    with promotion_lock(client, name, timeout=lock_timeout):
        champion = alias_version(client, name, CHAMPION)
        champion_score = float(evaluate(champion)) if champion is not None else None

        def decide(action: str, why: str) -> Decision:
            return Decision(
                action=action,
                model_name=name,
                version=version,
                previous_champion=champion,
                metric=metric,
                score=score,
                champion_score=champion_score,
                min_improvement=min_improvement,
                approver=approver,
                reason=why,
                at=_now(),
                actor=_actor(),
            )

        if champion == version:
            decision = decide("reject", f"version {version} is already champion")
        elif champion_score is None:
            decision = decide("promote", reason or "first champion")
        else:
            gain = improvement(metric, score, champion_score)
            if gain >= min_improvement:
                decision = decide(
                    "promote",
                    reason or f"{metric} improved by {gain:.6g} (>= {min_improvement:g})",
                )
            else:
                decision = decide(
                    "reject",
                    f"{metric} {score:.6g} vs champion v{champion} {champion_score:.6g}: "
                    f"improvement {gain:.6g} < required {min_improvement:g}",
                )
        if decision.promoted:
            _move_champion(client, name, version, champion)
        _tag_version(client, decision)
        return _record(client, decision)


def _model_version(client: MlflowClient, name: str, version: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version(name, version)
    except MlflowException:
        raise PromotionError(f"model {name!r} has no version {version!r}") from None


def _move_champion(client: MlflowClient, name: str, new: str, old: str | None) -> None:
    if old is not None:
        client.set_registered_model_alias(name, PREVIOUS_CHAMPION, old)
        client.set_model_version_tag(name, new, PREVIOUS_CHAMPION_TAG, old)
    client.set_registered_model_alias(name, CHAMPION, new)
    # Re-read: the lock makes a lost update impossible, but if someone bypassed it
    # (UI, raw API) we say so instead of reporting a champion that is not there.
    now = alias_version(client, name, CHAMPION)
    if now != new:
        raise PromotionError(
            f"champion of {name!r} is v{now} right after setting v{new}: "
            "a change bypassed the promotion lock; inspect the audit trail"
        )


def _tag_version(client: MlflowClient, d: Decision) -> None:
    tags = {
        "decision": d.action,
        "reason": d.reason,
        "approver": d.approver,
        "at": d.at,
    }
    if d.metric is not None and d.score is not None:
        tags[f"metric.{d.metric}"] = f"{d.score:.6g}"
    if d.champion_score is not None:
        tags["champion_score"] = f"{d.champion_score:.6g}"
    for key, value in tags.items():
        client.set_model_version_tag(d.model_name, d.version, TAG_PREFIX + key, value)


def rollback(
    client: MlflowClient,
    name: str,
    *,
    approver: str = "",
    reason: str = "",
    lock_timeout: float = 60.0,
) -> Decision:
    """Restore the previous champion.

    The restored version's own `mlops.previous_champion` tag (written when it was
    promoted) becomes the new `previous-champion`, so successive rollbacks walk back the
    promotion history.

    Raises:
        PromotionError: The model or a previous champion does not exist.
    """
    _registered_model(client, name)
    with promotion_lock(client, name, timeout=lock_timeout):
        previous = alias_version(client, name, PREVIOUS_CHAMPION)
        if previous is None:
            raise PromotionError(f"model {name!r} has no {PREVIOUS_CHAMPION!r} to roll back to")
        current = alias_version(client, name, CHAMPION)
        before = _model_version(client, name, previous).tags.get(PREVIOUS_CHAMPION_TAG)
        client.set_registered_model_alias(name, CHAMPION, previous)
        if before and before != previous:
            client.set_registered_model_alias(name, PREVIOUS_CHAMPION, before)
        else:
            client.delete_registered_model_alias(name, PREVIOUS_CHAMPION)
        decision = Decision(
            action="rollback",
            model_name=name,
            version=previous,
            previous_champion=current,
            metric=None,
            score=None,
            champion_score=None,
            min_improvement=None,
            approver=approver,
            reason=reason or f"rolled back from v{current}",
            at=_now(),
            actor=_actor(),
        )
        if current is not None:
            client.set_model_version_tag(name, current, TAG_PREFIX + "rolled_back_at", decision.at)
        return _record(client, decision)


def show(client: MlflowClient, name: str) -> dict[str, Any]:
    """Aliases, versions (with promotion tags) and the audit trail of model `name`."""
    model = _registered_model(client, name)
    versions = client.search_model_versions(f"name = '{name}'")
    return {
        "name": name,
        "aliases": {k: str(v) for k, v in sorted((model.aliases or {}).items())},
        "versions": [
            {
                "version": str(v.version),
                "run_id": v.run_id,
                "source": v.source,
                "tags": {
                    k: val for k, val in sorted((v.tags or {}).items()) if k.startswith("mlops.")
                },
            }
            for v in sorted(versions, key=lambda v: int(v.version))
        ],
        "audit": audit_trail(client, name),
    }


def score_model(model: Any, frame: pd.DataFrame, label: str, metric: str) -> float:
    """`metric` of a fitted classifier on `frame` (features plus the `label` column)."""
    from sklearn import metrics as skm

    x = frame.drop(columns=[label])
    y = frame[label]
    if metric == "roc_auc":
        return float(skm.roc_auc_score(y, model.predict_proba(x)[:, 1]))
    if metric == "log_loss":
        return float(skm.log_loss(y, model.predict_proba(x)))
    predicted = model.predict(x)
    scorer = {
        "accuracy": skm.accuracy_score,
        "f1": skm.f1_score,
        "precision": skm.precision_score,
        "recall": skm.recall_score,
    }[metric]
    return float(scorer(y, predicted))


def holdout_evaluator(
    client: MlflowClient, name: str, frame: pd.DataFrame, label: str, metric: str
) -> Evaluator:
    """An `Evaluator` that downloads each version from the registry once and scores it.

    It downloads through `client`'s server (not the process-global tracking URI), so two
    registries can be used side by side.
    """
    import tempfile

    import mlflow.artifacts
    import mlflow.sklearn

    tracking_uri = client._registry_uri  # the public API has no getter; set by client_from_env
    cache: dict[str, float] = {}

    def evaluate(version: str) -> float:
        if version not in cache:
            uri = f"models:/{name}/{version}"
            try:
                with tempfile.TemporaryDirectory(prefix="mlops-eval-") as tmp:
                    local = mlflow.artifacts.download_artifacts(
                        artifact_uri=uri,
                        dst_path=tmp,
                        tracking_uri=tracking_uri,
                        registry_uri=tracking_uri,
                    )
                    model = mlflow.sklearn.load_model(local)
            except Exception as exc:  # any load failure is the user's to fix, in one line
                raise PromotionError(f"cannot load {uri}: {_first_line(exc)}") from None
            cache[version] = score_model(model, frame, label, metric)
        return cache[version]

    return evaluate
