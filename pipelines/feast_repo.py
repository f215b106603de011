"""Render, apply and use the Feast feature repo in `pipelines/feature_repo/`.

The checked-in repo holds definitions and a `feature_store.yaml.tmpl`; `render_repo`
copies it into a working directory with a concrete `feature_store.yaml` (registry in the
object store, online store SQLite or Redis), which is what `feast apply` runs against.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from pipelines import settings

if TYPE_CHECKING:
    import pandas as pd

SOURCE_REPO = Path(__file__).resolve().parent / "feature_repo"
REDIS_PASSWORD_ENV = "REDIS_PASSWORD"
DEFAULT_PROJECT = "mlops_samples"


class FeastError(Exception):
    """`feast apply` or a store call failed; the message carries Feast's last lines."""


def online_store_yaml(url: str, repo: Path) -> str:
    """The `online_store:` block for an online store URL.

    Args:
        url: `sqlite:///path` (empty: SQLite inside the rendered repo), `redis://host:port[/db]`
            or `rediss://…` (TLS; the password, if any, from `REDIS_PASSWORD`, which Feast
            expands when it reads the file, so it is never written), or `dynamodb://region`
            (one provisioned table per feature view, `<project>.<view>`).
        repo: Directory of the rendered repo (SQLite paths are made absolute against it).
    """
    parsed = urlparse(url) if url else None
    if parsed is None or parsed.scheme in ("", "sqlite"):
        path = parsed.path if parsed and parsed.path else str(repo / "data" / "online.db")
        return f"  type: sqlite\n  path: {path}"
    if parsed.scheme in ("redis", "rediss"):
        host = parsed.hostname or "127.0.0.1"
        port = parsed.port or 6379
        db = parsed.path.lstrip("/") or "0"
        ssl = ",ssl=true" if parsed.scheme == "rediss" else ""
        password = ""
        if os.environ.get(REDIS_PASSWORD_ENV):
            password = f",password=${{{REDIS_PASSWORD_ENV}}}"
        return f'  type: redis\n  connection_string: "{host}:{port},db={db}{ssl}{password}"'
    if parsed.scheme == "dynamodb" and parsed.hostname:
        return (
            f"  type: dynamodb\n  region: {parsed.hostname}\n"
            '  table_name_template: "{project}.{table_name}"'
        )
    raise FeastError(
        f"unsupported online store URL {url!r}: use sqlite:///path, "
        "redis[s]://host:port or dynamodb://region"
    )


def load_redis_password() -> None:
    """Put the Redis AUTH token in `REDIS_PASSWORD` from Secrets Manager when the platform
    names the secret (`MLOPS_FEAST_REDIS_AUTH_SECRET_ARN`, JSON with `auth_token`)."""
    arn = os.environ.get(settings.REDIS_AUTH_SECRET_ENV)
    if not arn or os.environ.get(REDIS_PASSWORD_ENV):
        return
    import json

    import boto3

    try:
        secret = boto3.client("secretsmanager").get_secret_value(SecretId=arn)
        os.environ[REDIS_PASSWORD_ENV] = json.loads(secret["SecretString"])["auth_token"]
    except Exception as exc:  # botocore raises many kinds; the one line is what matters
        raise FeastError(
            f"cannot read the Redis AUTH token from {arn}: {type(exc).__name__}: {exc}"
        ) from None


def render_repo(
    dest: Path, registry: str, online_store: str = "", project: str = DEFAULT_PROJECT
) -> Path:
    """Copy the feature repo to `dest` with a rendered `feature_store.yaml`.

    Args:
        dest: Directory to (re)create; its `data/` (SQLite online store) is kept.
        registry: Registry path: `s3://bucket/feast/registry.db` or a local file.
        online_store: Online store URL (see `online_store_yaml`).
        project: Feast project (in the cloud the platform's, so its feature server sees it).

    Returns:
        `dest`.
    """
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "data").mkdir(exist_ok=True)
    for item in SOURCE_REPO.iterdir():
        if item.name in ("__pycache__", "data") or item.name.endswith(".tmpl"):
            continue
        if item.is_file():
            shutil.copy2(item, dest / item.name)
    template = Template((SOURCE_REPO / "feature_store.yaml.tmpl").read_text())
    rendered = template.substitute(
        registry=registry, project=project, online_store=online_store_yaml(online_store, dest)
    )
    (dest / "feature_store.yaml").write_text(rendered)
    return dest


def repo_from_env() -> Path:
    """The rendered repo the platform points at, else one rendered from the environment."""
    configured = os.environ.get(settings.FEAST_REPO_ENV)
    if configured and (Path(configured) / "feature_store.yaml").is_file():
        return Path(configured)
    registry = os.environ.get(settings.FEAST_REGISTRY_ENV) or (
        f"s3://{settings.bucket()}/feast/registry.db"
    )
    load_redis_password()
    dest = Path(configured) if configured else Path(tempfile.mkdtemp(prefix="feast-repo-"))
    return render_repo(
        dest,
        registry,
        os.environ.get(settings.FEAST_ONLINE_STORE_ENV, ""),
        os.environ.get(settings.FEAST_PROJECT_ENV) or DEFAULT_PROJECT,
    )


def apply(repo: Path, features_uri: str) -> str:
    """`feast apply` in `repo`; returns its output.

    It runs what Feast's CLI runs for `feast apply` (`repo_operations.apply_total`), in
    this process: the task has imported Feast already, and a `feast` subprocess would pay
    that import again, cold (seconds on two cores). What the CLI changes for the call —
    working directory, `sys.path`, the imported definitions, `MLOPS_FEATURES_URI` — is
    put back afterwards, so applying twice in one process reads the definitions afresh.
    """
    import contextlib
    import io

    from feast.repo_config import load_repo_config
    from feast.repo_operations import apply_total

    repo = repo.resolve()
    definitions = [path.stem for path in repo.glob("*.py")]
    saved_cwd, saved_path = os.getcwd(), list(sys.path)
    saved_uri = os.environ.get("MLOPS_FEATURES_URI")
    output = io.StringIO()
    try:
        os.environ["MLOPS_FEATURES_URI"] = features_uri
        # the definitions are imported by module name relative to the repo (as the CLI
        # finds them): first on the path, never a copy imported before
        sys.path.insert(0, str(repo))
        for name in definitions:
            sys.modules.pop(name, None)
        with contextlib.redirect_stdout(output):
            apply_total(
                load_repo_config(repo, repo / "feature_store.yaml"),
                repo,
                skip_source_validation=False,
            )
    except (Exception, SystemExit) as exc:
        tail = " | ".join(
            (output.getvalue().strip() or f"{type(exc).__name__}: {exc}").splitlines()[-3:]
        )
        raise FeastError(f"feast apply failed in {repo}: {tail}") from None
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        for name in definitions:
            sys.modules.pop(name, None)
        if saved_uri is None:
            os.environ.pop("MLOPS_FEATURES_URI", None)
        else:
            os.environ["MLOPS_FEATURES_URI"] = saved_uri
    return output.getvalue()


def store(repo: Path) -> Any:
    from feast import FeatureStore

    return FeatureStore(repo_path=str(repo))


def materialize(repo: Path, start: datetime, end: datetime) -> None:
    """Load the offline rows with timestamps in [start, end] into the online store."""
    store(repo).materialize(start_date=start - timedelta(seconds=1), end_date=end)


def historical_features(repo: Path, entity_df: pd.DataFrame) -> pd.DataFrame:
    """Point-in-time join of the feature service onto `entity_df` (id, timestamp, label)."""
    fs = store(repo)
    service = fs.get_feature_service(settings.FEATURE_SERVICE)
    job = fs.get_historical_features(entity_df=entity_df, features=service)
    frame: pd.DataFrame = job.to_df()
    return frame


def online_features(repo: Path, entity_ids: list[int]) -> dict[str, list[Any]]:
    fs = store(repo)
    service = fs.get_feature_service(settings.FEATURE_SERVICE)
    rows = [{settings.ENTITY: int(i)} for i in entity_ids]
    result: dict[str, list[Any]] = fs.get_online_features(
        features=service, entity_rows=rows
    ).to_dict()
    return result
