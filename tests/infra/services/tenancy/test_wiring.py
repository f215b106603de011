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
        binding = find(p, "RoleBinding", "team-member", ns)
        assert binding["roleRef"]["kind"] == "Role"  # its own namespace only
        rules = find(p, "Role", "team-member", ns)["rules"]
        assert any("inferenceservices" in r["resources"] and "create" in r["verbs"] for r in rules)
        assert any("workflows" in r["resources"] and "create" in r["verbs"] for r in rules)
    kinds = {o["kind"] for o in objects(p)}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding"}
