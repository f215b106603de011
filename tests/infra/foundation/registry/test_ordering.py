"""Issue 18, defect 10: ECR refuses a repository policy that names a role which does not
exist yet, so each repository policy depends on the roles it names that the stack creates."""

from __future__ import annotations

import pytest
from plans import ENVS, plan, resources_of

ROLE = "aws:iam/role:Role"


@pytest.mark.parametrize("env", ENVS)
def test_repository_policies_depend_on_the_roles_they_name(env: str) -> None:
    p = plan(env)
    roles = {r["inputs"]["name"]: r["urn"] for r in resources_of(p, ROLE)}
    policies = resources_of(p, "aws:ecr/repositoryPolicy:RepositoryPolicy")
    assert policies
    for policy in policies:
        text = policy["inputs"]["policy"]
        named = [urn for name, urn in roles.items() if f':role/{name}"' in text]
        # the node role (pull) and the CI role (push)
        assert len(named) == 2, (policy["name"], named)
        assert set(named) <= set(policy["dependencies"]), policy["name"]
