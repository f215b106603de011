"""Teams on MLflow: a workspace per team, its users, and what they may do there.

One code path for every place a team's MLflow side is made: the provisioning Job of the
MLflow component runs this file (mounted from a ConfigMap, ``python mlflow_teams.py
reconcile``) in the MLflow image once the server is up, and the isolation tests run the
same functions against a real server. So it imports only the standard library and MLflow.

What ``reconcile`` makes of a `Spec` (idempotent; it reads the server's state, so a
re-run, a rotated password or a removed team converges):

* per team, a workspace whose artifact root is the team's prefix of the artifact store,
  marked as the platform's (`MANAGED` in its description);
* its users (the team's pipeline user, its members) with the passwords given, and one role
  (`ROLE`) in that workspace holding `GRANTS` and nothing else, assigned to exactly them.
  A user is in one team's role only: nothing grants it another workspace, and the server
  runs with ``default_permission = NO_PERMISSIONS`` (`DEFAULT_PERMISSION`), so holding an
  account gives nothing by itself;
* a managed workspace whose team left the spec loses its role and its users (access goes);
  the workspace and what it holds stay, unless the spec names it in ``purge``.

``move`` puts experiments and registered models of one workspace (e.g. ``default``, from
before teams) into another, the way MLflow itself reassigns them when a workspace is
deleted with ``SET_DEFAULT``: the ``workspace`` column of the root rows, straight in the
backend store (children follow by key). MLflow has no API for it; run it as an operator
with the backend store's URI, then restart the server (its auth app caches which
workspace a resource is in).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_WORKSPACE = "default"
ROLE = "team"
MANAGED = "managed by the mlops platform: team"
# what a team's role may do in its workspace: read everything, create experiments and
# models (MLflow makes the creator their owner, MANAGE), log to any run and move aliases
# of any model of the team (promotion by whoever the team trusts); deleting what another
# member owns stays with the owner
GRANTS: tuple[tuple[str, str, str], ...] = (
    ("workspace", "*", "USE"),
    ("experiment", "*", "EDIT"),
    ("registered_model", "*", "EDIT"),
)
# the auth app's default for a user without a grant: nothing (no read of other teams)
DEFAULT_PERMISSION = "NO_PERMISSIONS"


@dataclass(frozen=True)
class Workspace:
    """One team's MLflow workspace.

    Attributes:
        name: The workspace (the team's name; ``default`` for the shared one).
        artifact_root: Where its runs' artifacts go (the team's prefix); ``None``: the
            server's default (only for ``default``, which cannot be changed).
        users: Accounts in its role (the pipeline user first, then members).
    """

    name: str
    artifact_root: str | None
    users: tuple[str, ...]


@dataclass(frozen=True)
class Spec:
    """Every workspace the platform manages, and the removed ones to delete with content."""

    workspaces: tuple[Workspace, ...]
    purge: tuple[str, ...] = field(default=())

    def to_json(self) -> str:
        return json.dumps(
            {
                "workspaces": [
                    {"name": w.name, "artifact_root": w.artifact_root, "users": list(w.users)}
                    for w in self.workspaces
                ],
                "purge": list(self.purge),
            },
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Spec:
        data = json.loads(text)
        return cls(
            workspaces=tuple(
                Workspace(name=w["name"], artifact_root=w["artifact_root"], users=tuple(w["users"]))
                for w in data["workspaces"]
            ),
            purge=tuple(data.get("purge", ())),
        )

    def check(self) -> None:
        """One role per user, no purge of a workspace still in use."""
        seen: dict[str, str] = {}
        for w in self.workspaces:
            for user in w.users:
                if user in seen:
                    raise ValueError(
                        f"user {user!r} is in workspaces {seen[user]!r} and {w.name!r}: "
                        "an account belongs to one team"
                    )
                seen[user] = w.name
        in_use = {w.name for w in self.workspaces} & set(self.purge)
        if in_use:
            raise ValueError(f"purge names workspaces still declared: {sorted(in_use)}")
        if DEFAULT_WORKSPACE in self.purge:
            raise ValueError("the default workspace cannot be purged")


def _clients(tracking_uri: str) -> tuple[Any, Any]:
    """MLflow's auth client and REST workspace store, as the caller's credentials
    (``MLFLOW_TRACKING_USERNAME``/``PASSWORD``: the admin)."""
    from mlflow.server.auth.client import AuthServiceClient
    from mlflow.store.workspace.rest_store import RestWorkspaceStore
    from mlflow.utils.credentials import get_default_host_creds

    return AuthServiceClient(tracking_uri), RestWorkspaceStore(
        lambda: get_default_host_creds(tracking_uri)
    )


def _is_missing(exc: Exception) -> bool:
    return getattr(exc, "error_code", None) == "RESOURCE_DOES_NOT_EXIST"


def _ensure_user(auth: Any, user: str, password: str, log: list[str]) -> None:
    from mlflow.exceptions import RestException

    try:
        auth.get_user(user)
    except RestException as exc:
        if not _is_missing(exc):
            raise
        auth.create_user(user, password)
        log.append(f"created user {user}")
    else:
        auth.update_user_password(user, password)


def _role_users(auth: Any, role_id: int) -> set[str]:
    """Usernames assigned to a role. Assignments carry user ids only, and the client has no
    call for the users list the REST API serves (``/users/list``, admin), hence its
    ``_request``."""
    from mlflow.server.auth.routes import LIST_USERS

    names = {u["id"]: u["username"] for u in auth._request(LIST_USERS, "GET")["users"]}
    return {names[a.user_id] for a in auth.list_role_users(role_id)}


def _team_role(auth: Any, workspace: str) -> Any | None:
    return next((r for r in auth.list_roles(workspace) if r.name == ROLE), None)


def _ensure_role(auth: Any, w: Workspace, log: list[str]) -> None:
    role = _team_role(auth, w.name)
    if role is None:
        role = auth.create_role(w.name, ROLE, description=f"{MANAGED} {w.name}")
        log.append(f"created role {ROLE} in {w.name}")
    have = {
        (p.resource_type, p.resource_pattern, p.permission): p.id
        for p in auth.list_role_permissions(role.id)
    }
    for grant in GRANTS:
        if grant not in have:
            auth.add_role_permission(role.id, *grant)
            log.append(f"granted {'/'.join(grant)} in {w.name}")
    for grant, pid in have.items():
        if grant not in GRANTS:  # widened by hand: back to the declared grants
            auth.remove_role_permission(pid)
            log.append(f"revoked {'/'.join(grant)} in {w.name}")
    assigned = _role_users(auth, role.id)
    for user in w.users:
        if user not in assigned:
            auth.assign_role(user, role.id)
            log.append(f"assigned {user} to {w.name}")
    for user in sorted(assigned - set(w.users)):
        _withdraw(auth, user, w.name)
        log.append(f"unassigned {user} from {w.name}")


def _withdraw(auth: Any, user: str, workspace: str) -> None:
    """Every role `user` holds in `workspace`: MLflow keeps what a user was granted on what
    they created (MANAGE, the creator-as-owner rule) in a synthetic role of theirs per
    workspace, which would outlive their team role; it goes too."""
    for role in auth.list_user_roles(user):
        if role.workspace != workspace:
            continue
        auth.unassign_role(user, role.id)
        if role.name != ROLE and not _role_users(auth, role.id):
            auth.delete_role(role.id)


def _retire(auth: Any, workspace: str, keep: set[str], log: list[str]) -> None:
    """A removed team's workspace: its users lose every role there, those in no declared
    workspace are deleted (their passwords are no longer anywhere), and its roles go."""
    users: set[str] = set()
    for role in auth.list_roles(workspace):
        users |= _role_users(auth, role.id)
    for user in sorted(users):
        if user in keep:
            _withdraw(auth, user, workspace)
        else:
            auth.delete_user(user)  # its synthetic roles go with it
            log.append(f"deleted user {user}")
    from mlflow.exceptions import RestException

    for role in auth.list_roles(workspace):
        try:
            for user in _role_users(auth, role.id):
                auth.unassign_role(user, role.id)
            auth.delete_role(role.id)
        except RestException as exc:
            if not _is_missing(exc):  # a deleted user's synthetic role went with it
                raise
    log.append(f"retired workspace {workspace} (its experiments and models stay)")


def reconcile(tracking_uri: str, spec: Spec, passwords: Mapping[str, str]) -> list[str]:
    """Make the server's teams what `spec` says; returns what changed, one line each."""
    spec.check()
    missing = sorted({u for w in spec.workspaces for u in w.users} - set(passwords))
    if missing:
        raise ValueError(f"no password for users {missing}")
    auth, store = _clients(tracking_uri)
    from mlflow.entities import Workspace as MlflowWorkspace
    from mlflow.entities.workspace import WorkspaceDeletionMode

    log: list[str] = []
    existing = {w.name: w for w in store.list_workspaces()}
    for w in spec.workspaces:
        description = f"{MANAGED} {w.name}"
        current = existing.get(w.name)
        if w.name == DEFAULT_WORKSPACE:
            pass  # MLflow's own, root fixed by the server's --artifacts-destination
        elif current is None:
            store.create_workspace(
                MlflowWorkspace(
                    name=w.name, description=description, default_artifact_root=w.artifact_root
                )
            )
            log.append(f"created workspace {w.name} at {w.artifact_root}")
        elif (current.default_artifact_root, current.description) != (
            w.artifact_root,
            description,
        ):
            store.update_workspace(
                MlflowWorkspace(
                    name=w.name, description=description, default_artifact_root=w.artifact_root
                )
            )
            log.append(f"updated workspace {w.name} to {w.artifact_root}")
        for user in w.users:
            _ensure_user(auth, user, passwords[user], log)
        _ensure_role(auth, w, log)
    declared = {w.name for w in spec.workspaces}
    keep = {u for w in spec.workspaces for u in w.users}
    for name, current in sorted(existing.items()):
        managed = (current.description or "").startswith(MANAGED)
        if name in declared or not managed:
            continue
        if _team_role(auth, name) is not None:
            _retire(auth, name, keep, log)
        if name in spec.purge:
            store.delete_workspace(name, WorkspaceDeletionMode.CASCADE)
            log.append(f"purged workspace {name} (its experiments and models are deleted)")
    return log


def read_passwords(directory: Path) -> dict[str, str]:
    """One file per user, named after it, holding its password (a mounted Secret)."""
    return {
        p.name: p.read_text().strip()
        for p in sorted(directory.iterdir())
        if not p.name.startswith(".")  # a Secret volume's ..data links
    }


def _names_in(session: Any, model: Any, workspace: str, names: list[str]) -> set[str]:
    rows: list[Any] = (
        session.query(model.name).filter(model.workspace == workspace, model.name.in_(names)).all()
    )
    return {str(row[0]) for row in rows}


def move(
    backend_store_uri: str,
    *,
    source: str,
    target: str,
    experiments: Sequence[str] = (),
    models: Sequence[str] = (),
) -> list[str]:
    """Move experiments and registered models (by name) from one workspace to another.

    All or nothing: a name missing in `source` or already taken in `target` refuses the
    whole move. Runs, model versions, tags and aliases follow their root row.
    """
    from mlflow.store.db.utils import create_sqlalchemy_engine_with_retry
    from mlflow.store.model_registry.dbmodels.models import (
        SqlModelVersion,
        SqlModelVersionTag,
        SqlRegisteredModel,
        SqlRegisteredModelAlias,
        SqlRegisteredModelTag,
    )
    from mlflow.store.tracking.dbmodels.models import SqlExperiment
    from sqlalchemy.orm import sessionmaker

    engine = create_sqlalchemy_engine_with_retry(backend_store_uri)
    log: list[str] = []
    with sessionmaker(bind=engine)() as session, session.begin():
        for model, names, kind in (
            (SqlExperiment, experiments, "experiment"),
            (SqlRegisteredModel, models, "registered model"),
        ):
            names = list(dict.fromkeys(names))
            if not names:
                continue
            found, taken = (_names_in(session, model, ws, names) for ws in (source, target))
            if set(names) - found:
                raise ValueError(f"no {kind} {sorted(set(names) - found)} in workspace {source!r}")
            if taken:
                raise ValueError(f"{kind} {sorted(taken)} already exists in workspace {target!r}")
            # the root row first: PostgreSQL cascades it to the rows keyed by (workspace,
            # name); SQLite enforces no foreign keys unless asked, so those rows are moved by
            # name as well (on PostgreSQL none is left to match)
            children = (
                (
                    SqlModelVersion,
                    SqlModelVersionTag,
                    SqlRegisteredModelTag,
                    SqlRegisteredModelAlias,
                )
                if model is SqlRegisteredModel
                else ()
            )
            for table in (model, *children):
                session.query(table).filter(
                    table.workspace == source, table.name.in_(names)
                ).update({table.workspace: target}, synchronize_session=False)
            log.extend(f"moved {kind} {n} from {source} to {target}" for n in names)
    engine.dispose()
    return log


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlflow_teams", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("reconcile", help="make the server's teams what the spec says")
    rec.add_argument("--spec", type=Path, required=True, help="the Spec as JSON")
    rec.add_argument("--passwords", type=Path, required=True, help="one file per user")
    mv = sub.add_parser("move", help="move experiments/models between workspaces")
    mv.add_argument("--from", dest="source", default=DEFAULT_WORKSPACE)
    mv.add_argument("--to", dest="target", required=True)
    mv.add_argument("--experiment", action="append", default=[])
    mv.add_argument("--model", action="append", default=[])
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        if args.command == "reconcile":
            lines = reconcile(
                os.environ["MLFLOW_TRACKING_URI"],
                Spec.from_json(args.spec.read_text()),
                read_passwords(args.passwords),
            )
        else:
            lines = move(
                os.environ["MLFLOW_BACKEND_STORE_URI"],
                source=args.source,
                target=args.target,
                experiments=args.experiment,
                models=args.model,
            )
    except (ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
