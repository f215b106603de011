"""Team namespaces are isolated and bound to their own role."""

from __future__ import annotations

import pytest
from plans import ENVIRONMENTS, find, objects, plan, role_trusting, sa_role


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_team_namespaces_are_isolated_and_bound_to_their_role(env: str) -> None:
    p = plan(env)
    for team in ("fraud", "recsys"):
        ns = f"team-{team}"
        labels = find(p, "Namespace", ns)["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        deny = find(p, "NetworkPolicy", "default-deny", ns)["spec"]
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        allowed = {
            o["metadata"]["name"]
            for o in objects(p)
            if o["kind"] == "NetworkPolicy" and o["metadata"]["namespace"] == ns
        }
        assert {"allow-dns", "allow-mlflow", "allow-feast", "allow-kubeflow"} <= allowed
        quota = find(p, "ResourceQuota", "team-quota", ns)["spec"]["hard"]
        assert quota["services.loadbalancers"] == "0"
        assert find(p, "LimitRange", "team-defaults", ns)["spec"]["limits"][0]["default"]
        trust = role_trusting(p, sa_role(p, ns, "pipeline-runner"))
        assert trust["sub"] == f"system:serviceaccount:{ns}:pipeline-runner"
        # the model servers' account: a role of its own, trusted by that account alone
        assert sa_role(p, ns, "model-server").endswith(f":role/mlops-{env}-team-{team}-serving")
        trust = role_trusting(p, sa_role(p, ns, "model-server"))
        assert trust["sub"] == f"system:serviceaccount:{ns}:model-server"
        binding = find(p, "RoleBinding", "team-member", ns)
        assert binding["roleRef"]["kind"] == "Role"  # its own namespace only
        rules = find(p, "Role", "team-member", ns)["rules"]
        assert any("inferenceservices" in r["resources"] and "create" in r["verbs"] for r in rules)
        assert any("workflows" in r["resources"] and "create" in r["verbs"] for r in rules)
    kinds = {o["kind"] for o in objects(p)}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding"}


def test_team_model_servers_read_where_the_pipelines_publish() -> None:
    """The training pipeline copies the champion to `teams.model_prefix` and renders the
    InferenceService with the team's serving account: that account declares reading there
    (workload-aws-access evaluates it against its read-only role) and the team's runner
    declares writing there, both under the team's own prefix, not MLflow's; the model the
    stack serves runs as the serving account too."""
    import json

    from mlops_runtime import teams

    p = plan("dev")
    for team in ("fraud", "recsys"):
        published = teams.model_prefix(team, "m", "1")
        assert published.startswith(f"teams/{team}/")
        serving = find(p, "ServiceAccount", teams.SERVING_ACCOUNT, teams.namespace(team))
        calls = json.loads(serving["metadata"]["annotations"]["mlops.platform/aws-calls"])
        reads = [c["resource"] for c in calls if c["action"] == "s3:GetObject"]
        assert reads and all(r.endswith(f"/{published}/MLmodel") for r in reads)
        runner = find(p, "ServiceAccount", f"pipeline-runner-{team}", "kubeflow")
        calls = json.loads(runner["metadata"]["annotations"]["mlops.platform/aws-calls"])
        assert any(
            c["action"] == "s3:PutObject" and c["resource"].endswith(f"/{published}/MLmodel")
            for c in calls
        )
    (isvc,) = [o for o in objects(p) if o["kind"] == "InferenceService"]
    assert isvc["spec"]["predictor"]["serviceAccountName"] == teams.SERVING_ACCOUNT
    assert (
        isvc["spec"]["predictor"]["model"]["storageUri"]
        .split("/", 3)[3]
        .startswith(teams.models_prefix(isvc["metadata"]["namespace"].removeprefix("team-")) + "/")
    )
