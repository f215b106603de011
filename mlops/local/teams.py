"""Teams on the local platform: the dev stack's teams, their MLflow accounts and secrets.

The teams are those the dev stack declares (``teams`` of ``environments/Pulumi.dev.yaml``,
read with the platform's own config model): no second list. Locally each gets what the
cloud gives it on MLflow (`mlops_runtime.mlflow_teams`): a workspace whose artifact root is
the team's prefix of the local bucket, and its pipeline user in that workspace only. Runs
that belong to no team use the shared pipelines account in the ``default`` workspace, as
the shared Kubeflow runner does; nothing a client is handed is the admin.

Passwords are generated once and kept in ``<state dir>/secrets.json`` (mode 0600): the
admin's (only `mlops local up` uses it, to reconcile the teams), the Flask session key of
MLflow's auth app, and one per pipeline user. They never leave the machine and are never
printed, except by `mlops local env` (for `eval`): a team's own password with ``--team``,
the shared pipelines account's without it; the admin's never.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from mlops.errors import UsageError
from mlops_runtime import mlflow_teams, teams
from mlops_runtime import pipelines_env as penv

# the stack whose teams the local platform reproduces
LOCAL_STACK = "dev"
ADMIN = "admin"
SECRETS_FILE = "secrets.json"


@functools.cache
def declared_teams(stack_name: str = LOCAL_STACK) -> tuple[str, ...]:
    """A stack's team names (default the dev stack's), in the order its config declares them.

    Raises:
        UsageError: Unknown stack, or its config does not validate (the field named).
    """
    from infra.config import CONFIG_KEY, ConfigError, parse_config
    from mlops.engine.stack_config import load_project, load_stack_config
    from mlops.paths import project_root

    stack = load_stack_config(load_project(project_root()), stack_name)
    raw = stack.values.get(CONFIG_KEY)
    try:
        config = parse_config(raw, stack=stack_name)
    except ConfigError as exc:
        raise UsageError(f"Pulumi.{stack_name}.yaml: {exc}") from None
    return tuple(t.name for t in config.teams)


def check_team(team: str | None, stack_name: str = LOCAL_STACK) -> str | None:
    """`team` if the stack (default the dev stack) declares it (None stays None).

    Raises:
        UsageError: Unknown team; the message names the known ones.
    """
    if team is None:
        return None
    known = declared_teams(stack_name)
    if team not in known:
        raise UsageError(
            f"--team: unknown team {team!r}; the teams of Pulumi.{stack_name}.yaml are "
            f"{', '.join(known) or 'none'}"
        )
    return team


def pipeline_user(team: str | None) -> str:
    """The MLflow account a team's runs (or, without a team, the shared runs) log as."""
    return teams.pipelines_user(team) if team else teams.SHARED_PIPELINES_USER


def spec(bucket: str, names: tuple[str, ...]) -> mlflow_teams.Spec:
    """What `mlflow_teams.reconcile` makes of the local server: the shared account in
    ``default``, each team's workspace at its prefix of the local bucket with its user."""
    return mlflow_teams.Spec(
        workspaces=(
            mlflow_teams.Workspace(
                mlflow_teams.DEFAULT_WORKSPACE, None, (teams.SHARED_PIPELINES_USER,)
            ),
            *(
                mlflow_teams.Workspace(
                    t, f"s3://{bucket}/{teams.mlflow_prefix(t)}", (teams.pipelines_user(t),)
                )
                for t in names
            ),
        )
    )


@dataclass(frozen=True)
class Secrets:
    """The local platform's generated passwords (see the module docstring)."""

    admin: str
    flask_key: str
    users: dict[str, str]

    @staticmethod
    def path(state_dir: Path) -> Path:
        return state_dir / SECRETS_FILE

    @classmethod
    def load(cls, state_dir: Path) -> Secrets | None:
        try:
            data = json.loads(cls.path(state_dir).read_text())
            return cls(data["admin"], data["flask_key"], dict(data["users"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @classmethod
    def ensure(cls, state_dir: Path, users: list[str] | None = None) -> Secrets:
        """The kept secrets, with a new password for each user that has none yet (a team
        added to the config); created on first use (`up`, or `env` before it). `users`:
        default every pipeline user of the declared teams and the shared one.

        Raises:
            UsageError: The file is unreadable, or gone while MLflow's users remain.
        """
        if users is None:
            users = [pipeline_user(t) for t in (None, *declared_teams())]
        state_dir.mkdir(parents=True, exist_ok=True)
        # one writer at a time: `up` and `env` both add what is missing; without the lock
        # each could keep a different password for the same new user
        with (state_dir / f".{SECRETS_FILE}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return cls._ensure_locked(state_dir, users)

    @classmethod
    def _ensure_locked(cls, state_dir: Path, users: list[str]) -> Secrets:
        current = cls.load(state_dir)
        if current is None:
            auth_db = state_dir / "mlflow" / "auth.db"
            if cls.path(state_dir).exists() or auth_db.exists():
                # a new admin password would not match the one in MLflow's auth database
                raise UsageError(
                    f"{cls.path(state_dir)} is missing or unreadable while MLflow's users "
                    f"remain in {auth_db}: restore it, or remove {auth_db} (runs and models "
                    "stay) and run `mlops local up`"
                )
            current = cls(secrets.token_urlsafe(24), secrets.token_hex(32), {})
        missing = [u for u in users if u not in current.users]
        if missing or not cls.path(state_dir).exists():
            updated = cls(
                current.admin,
                current.flask_key,
                {**current.users, **{u: secrets.token_urlsafe(24) for u in missing}},
            )
            updated._write(state_dir)
            return updated
        return current

    def _write(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        target = self.path(state_dir)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        partial.unlink(missing_ok=True)  # this process's own, from a run that died
        # created 0600 (never readable by others, not even for a moment), then renamed
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(
                {"admin": self.admin, "flask_key": self.flask_key, "users": self.users},
                out,
                indent=2,
                sort_keys=True,
            )
        partial.replace(target)


def identity_env(state_dir: Path, team: str | None) -> dict[str, str]:
    """The variables that make a client the team (or the shared account): MLflow user and
    password, its workspace and data prefix (empty without a team), the names
    `pipelines_env` gives a team's runs in the cloud.

    Raises:
        UsageError: Unknown team, or unusable secrets (`Secrets.ensure`).
    """
    team = check_team(team)
    kept = Secrets.ensure(state_dir)
    user = pipeline_user(team)
    # empty values too: they clear what an earlier `eval "$(mlops local env --team ...)"`
    # exported, so no team means the default workspace, not a leftover one
    return {
        penv.USERNAME_ENV: user,
        penv.PASSWORD_ENV: kept.users[user],
        penv.WORKSPACE_ENV: team or "",
        penv.DATA_PREFIX_ENV: teams.prefix(team) if team else "",
    }
