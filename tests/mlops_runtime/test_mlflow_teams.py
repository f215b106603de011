"""Teams on MLflow: the spec, and the isolation matrix on a real tracking server.

The server is the one the MLflow component renders (basic-auth, workspaces,
``default_permission`` nothing); the teams are made by `mlops_runtime.mlflow_teams`, the
file the component's provisioning Job runs. Every refusal is asserted, not only every
success.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import requests
from servers import MlflowServer

from mlops_runtime import mlflow_teams
from mlops_runtime.mlflow_teams import Spec, Workspace

WS_HEADER = "X-MLFLOW-WORKSPACE"
TEAM_SCRIPT = Path(mlflow_teams.__file__)


# ----------------------------------------------------------------- the spec alone


def test_spec_round_trips_through_json() -> None:
    spec = Spec(
        workspaces=(Workspace(name="fraud", artifact_root="s3://b/teams/fraud", users=("a",)),),
        purge=("old",),
    )
    assert Spec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            Spec(
                workspaces=(
                    Workspace(name="a", artifact_root="r", users=("u",)),
                    Workspace(name="b", artifact_root="r", users=("u",)),
                )
            ),
            "user 'u' is in workspaces 'a' and 'b'",
        ),
        (
            Spec(workspaces=(Workspace(name="a", artifact_root="r", users=()),), purge=("a",)),
            "purge names workspaces still declared",
        ),
        (Spec(workspaces=(), purge=("default",)), "default workspace cannot be purged"),
    ],
)
def test_spec_refuses_a_user_in_two_teams_and_a_purge_of_what_is_in_use(
    spec: Spec, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        spec.check()


def test_the_script_reports_bad_input_in_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(
        Spec(workspaces=(Workspace(name="a", artifact_root="r", users=("u",)),)).to_json()
    )
    (tmp_path / "pw").mkdir()
    with mock.patch.dict(os.environ, {"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}):
        code = mlflow_teams.main(
            ["reconcile", "--spec", str(spec), "--passwords", str(tmp_path / "pw")]
        )
    assert code == 2


# ----------------------------------------------------------------- on a real server


class Api:
    """REST calls as one user in one workspace."""

    def __init__(self, url: str, auth: tuple[str, str] | None, workspace: str | None) -> None:
        self.url, self.auth, self.workspace = url, auth, workspace

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {WS_HEADER: self.workspace} if self.workspace else {}
        return requests.request(
            method, self.url + path, auth=self.auth, headers=headers, timeout=20, **kwargs
        )

    def ok(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self(method, path, **kwargs)
        assert response.status_code == 200, (method, path, response.status_code, response.text)
        return response.json() if response.content else {}

    def refused(self, method: str, path: str, **kwargs: Any) -> None:
        response = self(method, path, **kwargs)
        assert response.status_code in (401, 403), (method, path, response.status_code)


def _reconcile_here(server: MlflowServer, spec: Spec, passwords: dict[str, str]) -> list[str]:
    with mock.patch.dict(os.environ, server.admin_env()):
        return mlflow_teams.reconcile(server.url, spec, passwords)


def _team(api: Api, tag: str) -> dict[str, str]:
    """An experiment, a run with a metric, a registered model with a version and the
    champion alias, made by `api`'s user in its workspace."""
    exp = api.ok("POST", "/api/2.0/mlflow/experiments/create", json={"name": f"exp-{tag}"})
    run = api.ok(
        "POST", "/api/2.0/mlflow/runs/create", json={"experiment_id": exp["experiment_id"]}
    )["run"]["info"]
    api.ok(
        "POST",
        "/api/2.0/mlflow/runs/log-metric",
        json={"run_id": run["run_id"], "key": "auc", "value": 0.9, "timestamp": 1, "step": 0},
    )
    model = f"model-{tag}"
    api.ok("POST", "/api/2.0/mlflow/registered-models/create", json={"name": model})
    version = api.ok(
        "POST",
        "/api/2.0/mlflow/model-versions/create",
        json={"name": model, "source": f"{run['artifact_uri']}/model", "run_id": run["run_id"]},
    )["model_version"]["version"]
    api.ok(
        "POST",
        "/api/2.0/mlflow/registered-models/alias",
        json={"name": model, "alias": "champion", "version": version},
    )
    return {
        "experiment_id": exp["experiment_id"],
        "run_id": run["run_id"],
        "artifact_uri": run["artifact_uri"],
        "model": model,
        "version": version,
    }


@pytest.mark.slow
@pytest.mark.long
def test_isolation_matrix_on_a_real_server(
    mlflow_teams_server: MlflowServer, tmp_path: Path
) -> None:
    server = mlflow_teams_server
    t = uuid.uuid4().hex[:6]  # names of this test's own on the shared server
    a, b = f"a{t}", f"b{t}"
    users = {
        f"{a}-pipelines": a,
        f"{a}-alice": a,
        f"{b}-pipelines": b,
        f"{t}-nobody": None,  # an account and no team: what default_permission gives
    }
    passwords = {u: uuid.uuid4().hex for u in users}
    roots = {team: f"{server.artifacts.parent}/s3/teams/{team}/mlflow" for team in (a, b)}
    spec = Spec(
        workspaces=tuple(
            Workspace(
                name=team,
                artifact_root=roots[team],
                users=tuple(u for u, ut in users.items() if ut == team),
            )
            for team in (a, b)
        )
    )
    # the Job's command: this file alone, as a script, with the admin's credentials
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(spec.to_json())
    pw_dir = tmp_path / "passwords"
    pw_dir.mkdir()
    (pw_dir / "..data").mkdir()  # what a mounted Secret volume also holds
    for user, password in passwords.items():
        if users[user]:
            (pw_dir / user).write_text(password)
    job = subprocess.run(
        [
            sys.executable,
            str(TEAM_SCRIPT),
            "reconcile",
            "--spec",
            str(spec_file),
            "--passwords",
            str(pw_dir),
        ],
        env={**os.environ, **server.admin_env(), "PYTHONPATH": ""},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert job.returncode == 0, job.stderr
    assert f"created workspace {a} at {roots[a]}" in job.stdout
    assert f"assigned {a}-alice to {a}" in job.stdout
    # idempotent: a second run changes nothing
    assert _reconcile_here(server, spec, passwords) == []
    admin = Api(server.url, server.admin, None)
    admin.ok(
        "POST",
        "/api/2.0/mlflow/users/create",
        json={"username": f"{t}-nobody", "password": passwords[f"{t}-nobody"]},
    )

    def as_(user: str, workspace: str | None) -> Api:
        return Api(server.url, (user, passwords[user]), workspace)

    a_pipe, a_alice = as_(f"{a}-pipelines", a), as_(f"{a}-alice", a)
    b_pipe = as_(f"{b}-pipelines", b)

    # own workspace: read and write, artifacts under the team's root
    mine = _team(a_pipe, "a")
    theirs = _team(b_pipe, "b")
    assert mine["artifact_uri"].startswith(roots[a] + "/")
    assert theirs["artifact_uri"].startswith(roots[b] + "/")
    # a member reads the pipeline's run and promotes its model; deleting it stays the owner's
    got = a_alice.ok("GET", "/api/2.0/mlflow/runs/get", params={"run_id": mine["run_id"]})
    assert got["run"]["data"]["metrics"][0]["key"] == "auc"
    a_alice.ok(
        "POST",
        "/api/2.0/mlflow/registered-models/alias",
        json={"name": mine["model"], "alias": "challenger", "version": mine["version"]},
    )
    a_alice.refused(
        "DELETE", "/api/2.0/mlflow/registered-models/delete", json={"name": mine["model"]}
    )

    # the other team's workspace: refused, whichever workspace the request names
    as_(f"{a}-pipelines", b).refused(
        "POST", "/api/2.0/mlflow/experiments/create", json={"name": f"x{t}"}
    )
    for api in (as_(f"{a}-pipelines", b), a_pipe):
        api.refused(
            "GET",
            "/api/2.0/mlflow/experiments/get",
            params={"experiment_id": theirs["experiment_id"]},
        )
        api.refused("GET", "/api/2.0/mlflow/runs/get", params={"run_id": theirs["run_id"]})
        api.refused(
            "POST",
            "/api/2.0/mlflow/runs/log-metric",
            json={"run_id": theirs["run_id"], "key": "k", "value": 1, "timestamp": 1},
        )
        api.refused(
            "GET", "/api/2.0/mlflow/registered-models/get", params={"name": theirs["model"]}
        )
        api.refused(
            "POST",
            "/api/2.0/mlflow/registered-models/alias",
            json={"name": theirs["model"], "alias": "champion", "version": "1"},
        )
        api.refused(
            "DELETE",
            "/api/2.0/mlflow/registered-models/alias",
            params={"name": theirs["model"], "alias": "champion"},
        )
        api.refused(
            "GET",
            "/api/2.0/mlflow/registered-models/alias",
            params={"name": theirs["model"], "alias": "champion"},
        )
    # searches in the other workspace find nothing (not even names)
    other = as_(f"{a}-pipelines", b)
    found = other("GET", "/api/2.0/mlflow/experiments/search", params={"max_results": 100})
    assert found.status_code in (200, 403) and not found.json().get("experiments")
    found = other("GET", "/api/2.0/mlflow/registered-models/search", params={"max_results": 100})
    assert found.status_code in (200, 403) and not found.json().get("registered_models")
    listed = a_pipe.ok("GET", "/api/3.0/mlflow/workspaces")
    assert [w["name"] for w in listed["workspaces"]] == [a]

    # admin-only operations: refused to a team's users
    for api in (a_pipe, a_alice):
        api.refused(
            "POST", "/api/2.0/mlflow/users/create", json={"username": f"x{t}", "password": "y" * 16}
        )
        api.refused(
            "PATCH",
            "/api/2.0/mlflow/users/update-admin",
            json={"username": f"{a}-alice", "is_admin": True},
        )
        api.refused(
            "PATCH",
            "/api/2.0/mlflow/users/update-password",
            json={"username": f"{b}-pipelines", "password": "z" * 16},
        )
        api.refused("POST", "/api/3.0/mlflow/workspaces", json={"name": f"w{t}"})
        api.refused(
            "PATCH",
            f"/api/3.0/mlflow/workspaces/{a}",
            json={"default_artifact_root": f"{roots[b]}"},
        )
        api.refused("DELETE", f"/api/3.0/mlflow/workspaces/{b}")
        api.refused("POST", "/api/3.0/mlflow/roles/create", json={"workspace": a, "name": f"r{t}"})
        api.refused("GET", "/metrics")

    # an account in no team: nothing (default_permission), in any workspace
    for ws in (None, "default", a):
        nobody = as_(f"{t}-nobody", ws)
        nobody.refused("POST", "/api/2.0/mlflow/experiments/create", json={"name": f"n{t}"})
        nobody.refused(
            "GET",
            "/api/2.0/mlflow/experiments/get",
            params={"experiment_id": mine["experiment_id"]},
        )
        nobody.refused("GET", "/api/2.0/mlflow/runs/get", params={"run_id": mine["run_id"]})
        nobody.refused(
            "GET", "/api/2.0/mlflow/registered-models/get", params={"name": mine["model"]}
        )
        found = nobody("GET", "/api/2.0/mlflow/experiments/search", params={"max_results": 100})
        assert found.status_code in (200, 403) and not found.json().get("experiments")
    # metrics: MLflow answers /metrics to admins only, so no account can be "metrics and
    # nothing else"; Prometheus holds none and scrapes the metrics sidecar
    # (tests/infra/services/mlflow/test_metrics_port.py)
    as_(f"{t}-nobody", None).refused("GET", "/metrics")
    assert admin("GET", "/metrics").status_code == 200

    # a member leaving the team loses the workspace at once, what they created included
    # (MLflow made them its owner)
    hers = a_alice.ok("POST", "/api/2.0/mlflow/experiments/create", json={"name": f"h{t}"})
    only_pipelines = Spec(
        workspaces=(
            Workspace(name=a, artifact_root=roots[a], users=(f"{a}-pipelines",)),
            *(w for w in spec.workspaces if w.name == b),
        )
    )
    log = _reconcile_here(server, only_pipelines, passwords)
    assert log == [f"unassigned {a}-alice from {a}"]
    a_alice.refused("GET", "/api/2.0/mlflow/runs/get", params={"run_id": mine["run_id"]})
    a_alice.refused(
        "GET", "/api/2.0/mlflow/experiments/get", params={"experiment_id": hers["experiment_id"]}
    )
    a_pipe.ok(
        "GET", "/api/2.0/mlflow/experiments/get", params={"experiment_id": hers["experiment_id"]}
    )

    # a team removed from the spec: its access goes, its workspace and data stay
    kept = Spec(workspaces=tuple(w for w in only_pipelines.workspaces if w.name == a))
    log = _reconcile_here(server, kept, passwords)
    assert f"deleted user {b}-pipelines" in log
    assert f"retired workspace {b} (its experiments and models stay)" in log
    b_pipe.refused(
        "GET", "/api/2.0/mlflow/experiments/get", params={"experiment_id": theirs["experiment_id"]}
    )
    as_admin_in_b = Api(server.url, server.admin, b)
    assert as_admin_in_b.ok(
        "GET", "/api/2.0/mlflow/registered-models/get", params={"name": theirs["model"]}
    )
    a_pipe.ok("GET", "/api/2.0/mlflow/runs/get", params={"run_id": mine["run_id"]})
    # ...unless purged
    log = _reconcile_here(server, Spec(workspaces=kept.workspaces, purge=(b,)), passwords)
    assert log == [f"purged workspace {b} (its experiments and models are deleted)"]
    names = [w["name"] for w in admin.ok("GET", "/api/3.0/mlflow/workspaces")["workspaces"]]
    assert a in names and b not in names


@pytest.mark.slow
@pytest.mark.long
def test_experiments_and_models_move_from_default_into_a_team(
    mlflow_teams_server: MlflowServer,
) -> None:
    server = mlflow_teams_server
    t = uuid.uuid4().hex[:6]
    team, user, password = f"m{t}", f"m{t}-pipelines", uuid.uuid4().hex
    spec = Spec(workspaces=(Workspace(name=team, artifact_root=None, users=(user,)),))
    _reconcile_here(server, spec, {user: password})
    # what existed before teams, in the default workspace (made by the admin)
    legacy = _team(Api(server.url, server.admin, "default"), f"legacy-{t}")
    mine = Api(server.url, (user, password), team)
    mine.refused("GET", "/api/2.0/mlflow/runs/get", params={"run_id": legacy["run_id"]})
    # a clash or a missing name moves nothing
    with pytest.raises(ValueError, match="no experiment"):
        mlflow_teams.move(
            server.backend_store_uri,
            source="default",
            target=team,
            experiments=[f"exp-legacy-{t}", "absent"],
        )
    mine.ok("POST", "/api/2.0/mlflow/registered-models/create", json={"name": legacy["model"]})
    with pytest.raises(ValueError, match="already exists in workspace"):
        mlflow_teams.move(
            server.backend_store_uri, source="default", target=team, models=[legacy["model"]]
        )
    mine.ok("DELETE", "/api/2.0/mlflow/registered-models/delete", json={"name": legacy["model"]})
    log = mlflow_teams.move(
        server.backend_store_uri,
        source="default",
        target=team,
        experiments=[f"exp-legacy-{t}"],
        models=[legacy["model"]],
    )
    assert log == [
        f"moved experiment exp-legacy-{t} from default to {team}",
        f"moved registered model {legacy['model']} from default to {team}",
    ]
    # the team now reads the runs and promotes the model, versions and aliases included
    got = mine.ok("GET", "/api/2.0/mlflow/runs/get", params={"run_id": legacy["run_id"]})
    assert got["run"]["data"]["metrics"][0]["key"] == "auc"
    alias = mine.ok(
        "GET",
        "/api/2.0/mlflow/registered-models/alias",
        params={"name": legacy["model"], "alias": "champion"},
    )
    assert alias["model_version"]["version"] == legacy["version"]
    mine.ok(
        "POST",
        "/api/2.0/mlflow/registered-models/alias",
        json={"name": legacy["model"], "alias": "challenger", "version": legacy["version"]},
    )
    in_default = Api(server.url, server.admin, "default").ok(
        "GET", "/api/2.0/mlflow/registered-models/search", params={"max_results": 1000}
    )
    assert legacy["model"] not in {m["name"] for m in in_default.get("registered_models", [])}
