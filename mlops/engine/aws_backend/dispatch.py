"""The dispatcher: one moto account per plan, and the table of handlers per type.

Each AWS service's module (s3.py, iam.py...) registers its handlers here with
`@handles(type token)`; `Backend.apply` looks the type up and calls its handler
with the resource's inputs, secrets revealed and our IDs translated to moto's.

moto picks its own random IDs (KMS keys); the plan prints deterministic ones.
`Backend.alias` records ours → moto's so later calls that reference a resource
are translated before they reach moto.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

from mlops.engine import internals
from mlops.engine.fakes import Ctx
from mlops.engine.values import SECRET_SIG, SIG_KEY


class AwsRejected(Exception):
    """AWS (as moto or our checks model it) would refuse this resource."""


Handler = Callable[["Backend", str, dict[str, Any], dict[str, Any]], None]
HANDLERS: dict[str, Handler] = {}
# invoke token -> makes what a look-up found exist in moto (it exists in the account)
Adopter = Callable[["Backend", dict[str, Any], dict[str, Any]], None]
ADOPTERS: dict[str, Adopter] = {}


def adopts(*tokens: str) -> Callable[[Adopter], Adopter]:
    def register(fn: Adopter) -> Adopter:
        for t in tokens:
            ADOPTERS[t] = fn
        return fn

    return register


def handles(*types: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for t in types:
            HANDLERS[t] = fn
        return fn

    return register


def client(service: str, region: str) -> Any:
    """The process's boto3 client for moto (one per service and region: a client holds
    no moto state, moto's backends are process-wide)."""
    return internals.boto_client(service, region)


_AMIS_SETTING = "MOTO_EC2_LOAD_DEFAULT_AMIS"
# one read-only request per service: loads what moto loads on first use (its own copy of
# the service model, URL routes, the region's backend)
_WARM_UP_CALLS = {
    "s3": "list_buckets",
    "kms": "list_keys",
    "iam": "list_roles",
    "ec2": "describe_vpcs",
    "rds": "describe_db_instances",
    "elasticache": "describe_replication_groups",
    "dynamodb": "list_tables",
    "secretsmanager": "list_secrets",
    "eks": "list_clusters",
    "ecr": "describe_repositories",
    "logs": "describe_log_groups",
    "codebuild": "list_projects",
}


def warm_up(region: str) -> None:
    """Do now the once-per-process work a first plan would otherwise wait for: moto's
    imports, botocore clients, moto's first request per service, the managed-policy
    list. The next `Backend` starts from an empty account all the same."""
    from moto import mock_aws

    from mlops.engine.aws_backend.iam import aws_managed_policies

    internals.speed_up_moto()
    aws_managed_policies()
    with mock_aws():
        for service, call in _WARM_UP_CALLS.items():
            getattr(client(service, region), call)()


class Backend:
    """One moto account for one plan."""

    def __init__(self, ctx: Ctx) -> None:
        from moto import mock_aws  # ~1 s of imports, only where moto runs (aws_worker.py)

        self.ctx = ctx
        self._mock = mock_aws()
        self._saved_amis_setting: str | None = None
        self._aliases: dict[str, str] = {}
        self.state: dict[str, dict[str, Any]] = {}  # per-handler scratch (e.g. PAB per bucket)
        # The mock monitor registers resources from a thread pool: one call into moto
        # at a time keeps aliases consistent, builds each boto3 client once, and is
        # faster than threads contending for the GIL.
        self._lock = threading.RLock()

    def __enter__(self) -> Backend:
        internals.speed_up_moto()
        # moto loads ~1,300 public AMIs into every EC2 region it touches (~0.2 s each);
        # nothing the platform creates looks an AMI up.
        self._saved_amis_setting = os.environ.get(_AMIS_SETTING)
        os.environ[_AMIS_SETTING] = "false"
        self._mock.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._mock.stop()
        if self._saved_amis_setting is None:
            os.environ.pop(_AMIS_SETTING, None)
        else:
            os.environ[_AMIS_SETTING] = self._saved_amis_setting

    def client(self, service: str) -> Any:
        return client(service, self.ctx.region)

    def alias(self, ours: str, theirs: str) -> None:
        if ours and theirs and ours != theirs:
            self._aliases[ours] = theirs

    def translate(self, value: Any) -> Any:
        """Replace our IDs/ARNs by moto's, also inside JSON strings."""
        if isinstance(value, str):
            for ours, theirs in self._aliases.items():
                if ours in value:
                    value = value.replace(ours, theirs)
            return value
        if isinstance(value, dict):
            return {k: self.translate(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.translate(v) for v in value]
        return value

    def apply(self, typ: str, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> bool:
        """Create the resource in moto; False when moto does not model this type."""
        handler = HANDLERS.get(typ)
        if handler is None:
            return False
        with self._lock:
            self._apply(handler, name, inputs, state)
        return True

    def adopt(self, token: str, args: dict[str, Any], result: dict[str, Any]) -> None:
        """After a look-up invoke: make the resource it found exist in moto."""
        adopter = ADOPTERS.get(token)
        if adopter is None:
            return
        with self._lock:
            adopter(self, args, result)

    def _apply(
        self, handler: Handler, name: str, inputs: dict[str, Any], state: dict[str, Any]
    ) -> None:
        try:
            handler(self, name, self.translate(reveal(inputs)), state)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            raise AwsRejected(f"{err.get('Code', 'Error')}: {err.get('Message', exc)}") from None
        except ParamValidationError as exc:
            raise AwsRejected(str(exc).replace("\n", " ")) from None
        except AwsRejected:
            raise
        except Exception as exc:  # a moto defect must still name the resource, not crash
            raise AwsRejected(f"moto could not model it ({type(exc).__name__}: {exc})") from None


def reveal(value: Any) -> Any:
    """Inputs with Pulumi secrets unwrapped: AWS receives the plaintext (moto too)."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return reveal(value.get("value"))
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def tags(inputs: dict[str, Any]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": str(v)} for k, v in sorted((inputs.get("tags") or {}).items())]


def policy_json(text: Any, what: str) -> dict[str, Any]:
    """Parse a policy document the way IAM/S3 do before accepting it."""
    if not isinstance(text, str):
        raise AwsRejected(f"MalformedPolicyDocument: {what} must be a JSON string")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AwsRejected(
            f"MalformedPolicyDocument: {what} is not valid JSON ({exc.msg})"
        ) from None
    if not isinstance(doc, dict) or "Statement" not in doc:
        raise AwsRejected(f"MalformedPolicyDocument: {what} has no Statement")
    if doc.get("Version") not in ("2012-10-17", "2008-10-17"):
        raise AwsRejected(f"MalformedPolicyDocument: {what} has an invalid Version")
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    for i, st in enumerate(statements):
        if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny"):
            raise AwsRejected(f"MalformedPolicyDocument: {what} statement {i} needs Effect")
        if "Action" not in st and "NotAction" not in st:
            raise AwsRejected(f"MalformedPolicyDocument: {what} statement {i} has no Action")
    return doc


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
