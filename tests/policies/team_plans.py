"""The team plans the teams and access rule tests share: two teams, their runners and
serving accounts, each role's policy, and InferenceServices in their namespaces."""

from __future__ import annotations

import json
from typing import Any

from harness import res

BUCKET = "acme-artifacts"
LABEL = "mlops.platform/team"
WORKLOAD = "mlops.platform/workload"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def prefix_grant(prefix: str, actions: list[str]) -> list[dict[str, Any]]:
    """Listing ``prefix`` (an ``s3:prefix`` condition) and ``actions`` on its objects."""
    return [
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{BUCKET}",
            "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}},
        },
        {
            "Effect": "Allow",
            "Action": actions,
            "Resource": f"arn:aws:s3:::{BUCKET}/{prefix}/*",
        },
    ]


def scoped(prefix: str) -> list[dict[str, Any]]:
    """A runner's grant: read and write under ``prefix``."""
    return prefix_grant(prefix, ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])


KMS_DECRYPT = {
    "Effect": "Allow",
    "Action": "kms:Decrypt",
    "Resource": "arn:aws:kms:us-east-1:123456789012:key/*",
    "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
}


def models_read(team: str) -> list[dict[str, Any]]:
    """What the platform grants a serving role: its team's published models, read only."""
    return [
        *prefix_grant(f"teams/{team}/models", ["s3:GetObject", "s3:GetObjectVersion"]),
        KMS_DECRYPT,
    ]


def namespace(team: str) -> dict[str, Any]:
    """The team's namespace, labelled as the team's."""
    return res(
        "kubernetes:core/v1:Namespace",
        f"ns-{team}",
        {"metadata": {"name": f"team-{team}", "labels": {LABEL: team}}},
    )


def identity(
    ns: str, sa: str, role: str, labels: dict[str, str], statements: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """An IRSA ServiceAccount ``ns/sa`` bound to ``role``, whose inline policy holds
    ``statements``."""
    return [
        res("aws:iam/role:Role", role, {"name": role, "assumeRolePolicy": "{}"}),
        res(
            "aws:iam/rolePolicy:RolePolicy",
            f"{role}-access",
            {"name": "access", "role": role, "policy": doc(*statements)},
        ),
        res(
            "kubernetes:core/v1:ServiceAccount",
            f"{ns}-{sa}",
            {
                "metadata": {
                    "name": sa,
                    "namespace": ns,
                    "labels": labels,
                    "annotations": {
                        "eks.amazonaws.com/role-arn": f"arn:aws:iam::123456789012:role/{role}"
                    },
                }
            },
        ),
    ]


def serving_plan(
    fraud_serving: list[dict[str, Any]], *, serving_label: bool = True
) -> list[dict[str, Any]]:
    """Two teams, each with its runner (read-write on its prefix) and its serving account;
    fraud's serving role holds ``fraud_serving``."""
    out = []
    for team in ("fraud", "recsys"):
        ns = f"team-{team}"
        serving = fraud_serving if team == "fraud" else models_read(team)
        serving_labels = {LABEL: team, **({WORKLOAD: "serving"} if serving_label else {})}
        out += [
            namespace(team),
            *identity(
                ns, "pipeline-runner", f"acme-team-{team}", {LABEL: team}, scoped(f"teams/{team}")
            ),
            *identity(ns, "model-server", f"acme-team-{team}-serving", serving_labels, serving),
        ]
    return out


def isvc(namespace: str, **components: dict[str, Any]) -> dict[str, Any]:
    return res(
        "kubernetes:serving.kserve.io/v1beta1:InferenceService",
        f"isvc-{namespace}",
        {
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": {"name": "fraud-classifier", "namespace": namespace},
            "spec": components,
        },
    )


def model(account: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"model": {"modelFormat": {"name": "mlflow"}, "storageUri": "s3://b/x"}}
    if account is not None:
        out["serviceAccountName"] = account
    return out
