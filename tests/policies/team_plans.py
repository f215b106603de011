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


def scoped(prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{BUCKET}",
            "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}},
        },
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": f"arn:aws:s3:::{BUCKET}/{prefix}/*",
        },
    ]


KMS_DECRYPT = {
    "Effect": "Allow",
    "Action": "kms:Decrypt",
    "Resource": "arn:aws:kms:us-east-1:123456789012:key/*",
    "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
}


def models_read(team: str) -> list[dict[str, Any]]:
    """What the platform grants a serving role: its team's published models, read only."""
    prefix = f"teams/{team}/models"
    return [
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{BUCKET}",
            "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}},
        },
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": f"arn:aws:s3:::{BUCKET}/{prefix}/*",
        },
        KMS_DECRYPT,
    ]


def serving_plan(
    fraud_serving: list[dict[str, Any]], *, serving_label: bool = True
) -> list[dict[str, Any]]:
    """Two teams, each with its runner (read-write on its prefix) and its serving account;
    fraud's serving role holds ``fraud_serving``."""
    out = []
    for team in ("fraud", "recsys"):
        ns = f"team-{team}"
        out.append(
            res(
                "kubernetes:core/v1:Namespace",
                f"ns-{team}",
                {"metadata": {"name": ns, "labels": {LABEL: team}}},
            )
        )
        serving = fraud_serving if team == "fraud" else models_read(team)
        for sa, role, statements, labels in (
            ("pipeline-runner", f"acme-team-{team}", scoped(f"teams/{team}"), {LABEL: team}),
            (
                "model-server",
                f"acme-team-{team}-serving",
                serving,
                {LABEL: team, **({WORKLOAD: "serving"} if serving_label else {})},
            ),
        ):
            out += [
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
                                "eks.amazonaws.com/role-arn": (
                                    f"arn:aws:iam::123456789012:role/{role}"
                                )
                            },
                        }
                    },
                ),
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
