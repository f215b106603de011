"""Serving the champion on the local model server (MLServer), as KServe does in the cluster.

The version behind the ``champion`` alias is downloaded from MLflow into the model
repository (as KServe's storage initializer does from the artifact store) and loaded
through MLServer's model repository API, so the server keeps running and the previous
version answers until the new one is ready. The local platform calls this when it starts
and when asked to reload; a pipeline's deploy step calls it when it runs locally
(`pipelines_env.LOCAL_STATE_ENV` set).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_runtime import pipelines_env as penv
from mlops_runtime.environ import environment
from mlops_runtime.errors import MlopsError
from mlops_runtime.model_ops import CHAMPION

RUNTIME = "mlserver_mlflow.MLflowRuntime"


class LocalServingError(MlopsError):
    """MLflow or the model server refused what serving the champion needs."""


@dataclass(frozen=True)
class ModelRepository:
    """The local model server's folders under the platform's state folder."""

    state_dir: Path

    @property
    def root(self) -> Path:
        return self.state_dir / "serving"

    @property
    def models(self) -> Path:
        """MLServer's model repository (one folder per model, its settings beside)."""
        return self.root / "models"

    @property
    def record_file(self) -> Path:
        """What is being served: name, version, registry URI and the team whose workspace
        it comes from (None: the ``default`` workspace)."""
        return self.root / "current.json"

    def record(self) -> dict[str, Any]:
        try:
            data = json.loads(self.record_file.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}


def identity_headers(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The headers MLflow's client sends for the caller's identity: basic auth from
    ``MLFLOW_TRACKING_USERNAME``/``PASSWORD`` and the workspace from ``MLFLOW_WORKSPACE``
    (of `env`, else of this process)."""
    source = os.environ if env is None else env
    headers = {}
    user, password = source.get(penv.USERNAME_ENV), source.get(penv.PASSWORD_ENV)
    if user and password:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    if source.get(penv.WORKSPACE_ENV):
        headers["X-MLFLOW-WORKSPACE"] = source[penv.WORKSPACE_ENV]
    return headers


def champion_version(
    mlflow_uri: str, name: str, env: Mapping[str, str] | None = None
) -> str | None:
    """The version behind ``name``'s champion alias; None when there is none (REST, so a
    status check does not import mlflow). The caller's identity comes from `env` (else
    this process's environment), see `identity_headers`."""
    query = urllib.parse.urlencode({"name": name, "alias": CHAMPION})
    url = f"{mlflow_uri}/api/2.0/mlflow/registered-models/alias?{query}"
    request = urllib.request.Request(url, headers=identity_headers(env))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code in (400, 404):
            return None
        if exc.code == 403 and not _visible(mlflow_uri, name, env):
            # the auth app refuses a lookup of a model that does not exist in the caller's
            # workspace (no resource, no grant): for the caller there is no champion
            return None
        raise LocalServingError(f"mlflow: alias lookup failed ({exc})") from None
    except (OSError, ValueError) as exc:
        raise LocalServingError(f"mlflow: not reachable at {mlflow_uri} ({exc})") from None
    version = body.get("model_version", {}).get("version")
    return str(version) if version is not None else None


def _visible(mlflow_uri: str, name: str, env: Mapping[str, str] | None) -> bool:
    """Whether the caller's search of its workspace lists registered model `name`."""
    query = urllib.parse.urlencode({"filter": f"name = '{name}'", "max_results": 1})
    url = f"{mlflow_uri}/api/2.0/mlflow/registered-models/search?{query}"
    request = urllib.request.Request(url, headers=identity_headers(env))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read())
    except (OSError, ValueError) as exc:
        raise LocalServingError(f"mlflow: model search failed ({exc})") from None
    return any(m.get("name") == name for m in body.get("registered_models", []))


def serve_champion(
    repository: ModelRepository,
    name: str,
    *,
    mlflow_uri: str,
    model_server_url: str | None,
    env: dict[str, str] | None = None,
) -> str | None:
    """Put ``name``'s champion in the repository and load it; returns its version, or None
    when the model has no champion.

    Args:
        repository: The local model server's folders.
        name: Registered model name (also the served model's name).
        mlflow_uri: The tracking server the registry lives on.
        model_server_url: The model server; None, or a server that does not answer:
            only the repository is prepared (the server loads it when it starts).
        env: Variables the download needs (object store endpoint and credentials, the
            MLflow identity: user, password, workspace); None: this process's.
    """
    identity = {**os.environ, **(env or {})}
    version = champion_version(mlflow_uri, name, identity)
    if version is None:
        return None
    model_dir = repository.models / name
    target = model_dir / f"v{version}"
    if not (target / "MLmodel").exists():
        # only a download needs MLflow's client (seconds to import, e.g. in `local up`)
        import mlflow.artifacts

        staging = model_dir / f".v{version}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        needed = {
            **(env or {}),
            "MLFLOW_TRACKING_URI": mlflow_uri,
            "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        }
        with environment(needed):
            mlflow.artifacts.download_artifacts(
                artifact_uri=f"models:/{name}/{version}",
                dst_path=str(staging),
                tracking_uri=mlflow_uri,
            )
        staging.rename(target)
    settings = {
        "name": name,
        "implementation": RUNTIME,
        "parameters": {"uri": str(target), "version": version},
    }
    (model_dir / "model-settings.json").write_text(json.dumps(settings, indent=2))
    repository.record_file.write_text(
        json.dumps(
            {
                "name": name,
                "version": version,
                "uri": f"models:/{name}/{version}",
                "team": identity.get(penv.WORKSPACE_ENV) or None,
            }
        )
    )
    if model_server_url is not None and _live(model_server_url):
        _load(model_server_url, name)
    for old in model_dir.glob("v*"):
        if old != target:
            shutil.rmtree(old, ignore_errors=True)
    return version


def _live(model_server_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{model_server_url}/v2/health/live", timeout=2):
            return True
    except (urllib.error.URLError, OSError):
        return False


def _load(model_server_url: str, name: str) -> None:
    request = urllib.request.Request(
        f"{model_server_url}/v2/repository/models/{name}/load", data=b"", method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=120):
            pass
    except (urllib.error.URLError, OSError) as exc:
        raise LocalServingError(f"model: loading {name} failed ({exc})") from None
