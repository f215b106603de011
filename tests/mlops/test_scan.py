"""`mlops scan`: checkov reads the export and the manifests; a failed check passes only
with a suppression that says why."""

from __future__ import annotations

from pathlib import Path

import pulumi_aws as aws
import pytest
from plans import ENVS, planned

from mlops.engine.plan import plan_function
from mlops.errors import UsageError
from mlops.scan import (
    Suppression,
    Suppressions,
    judge,
    load_suppressions,
    scan_plans,
    unread,
)

REASON = "accepted in this test only, to show how suppression is judged here"


def _bucket(with_block: bool) -> None:
    bucket = aws.s3.Bucket("data", bucket="scratch-data-123456789012")
    if with_block:
        aws.s3.BucketPublicAccessBlock(
            "data-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )


@pytest.fixture(scope="module")
def scratch() -> object:
    """One small checkov run (~7 s of start-up) over two scratch plans."""
    plans = {
        "linked": plan_function(lambda: _bucket(True)),
        "alone": plan_function(lambda: _bucket(False)),
    }
    return scan_plans(plans, Suppressions())


def _outcome(result: object, env: str, check: str, resource: str) -> str:
    for report in result.reports:  # type: ignore[attr-defined]
        for outcome in ("passed_checks", "failed_checks"):
            for c in (report.get("results") or {}).get(outcome) or []:
                if (c["check_id"], c["resource"]) == (check, resource) and c["file_path"].lstrip(
                    "/"
                ).startswith(f"{env}/"):
                    return outcome
    return "absent"


def test_the_graph_check_sees_the_bucket_and_its_public_access_block(scratch: object) -> None:
    # CKV2_AWS_6: a bucket with no public-access block connected to it fails
    assert _outcome(scratch, "linked", "CKV2_AWS_6", "aws_s3_bucket.data") == "passed_checks"
    assert _outcome(scratch, "alone", "CKV2_AWS_6", "aws_s3_bucket.data") == "failed_checks"
    assert scratch.exported == {"linked": 2, "alone": 1}  # type: ignore[attr-defined]
    assert scratch.read["terraform_plan"] == 3  # type: ignore[attr-defined]


def test_a_scan_that_did_not_read_everything_fails_closed(scratch: object) -> None:
    reports = scratch.reports  # type: ignore[attr-defined]
    assert unread(reports, 3) is None
    # a resource written but never read, or a file checkov could not parse
    assert unread(reports, 4) == "3 of the 4 resources exported as Terraform plan JSON"
    broken = [
        {**r, "summary": {**(r.get("summary") or {}), "parsing_errors": 1}} for r in reports[:1]
    ] + list(reports[1:])
    assert unread(broken, 3) == "1 file(s) it could not parse"


def test_one_unsuppressed_finding_fails_the_scan_and_its_suppression_passes_it(
    scratch: object,
) -> None:
    failed = scratch.environments["alone"]["terraform_plan"].failed  # type: ignore[attr-defined]
    checks = sorted({f.check for f in failed})
    assert "CKV2_AWS_6" in checks
    envs = ["linked", "alone"]
    rules = [Suppression(check=c, reason=REASON) for c in checks if c != "CKV2_AWS_6"]
    results, _unused, _v, _read = judge(
        scratch.reports,
        envs,  # type: ignore[attr-defined]
        Suppressions(terraform_plan=tuple(rules)),
    )
    left = [f for env in envs for f in results[env]["terraform_plan"].failed]
    assert [(f.check, f.resource) for f in left] == [("CKV2_AWS_6", "aws_s3_bucket.data")]
    # narrowed to the other environment, the suppression does not apply
    elsewhere = Suppression(check="CKV2_AWS_6", reason=REASON, environments=("linked",))
    results, unused, _v, _read = judge(
        scratch.reports,
        envs,  # type: ignore[attr-defined]
        Suppressions(terraform_plan=(*rules, elsewhere)),
    )
    assert len(results["alone"]["terraform_plan"].failed) == 1
    assert ("terraform_plan", elsewhere) in unused
    accepted = Suppression(check="CKV2_AWS_6", reason=REASON, resources=("aws_s3_bucket.*",))
    results, unused, _v, _read = judge(
        scratch.reports,
        envs,  # type: ignore[attr-defined]
        Suppressions(terraform_plan=(*rules, accepted)),
    )
    assert not [f for env in envs for f in results[env]["terraform_plan"].failed]
    assert [f.reason for f in results["alone"]["terraform_plan"].suppressed] == [REASON] * len(
        failed
    )
    assert unused == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "terraform_plan:\n  - {check: CKV_AWS_1, reason: because}\n",
            "terraform_plan.0.reason: Value error, say why in a sentence",
        ),
        (
            "terraform_plan:\n  - {check: AWS_1, reason: " + REASON + "}\n",
            "terraform_plan.0.check: String should match pattern",
        ),
        (
            "helm:\n  - {check: CKV_AWS_1, reason: " + REASON + "}\n",
            "helm: Extra inputs are not permitted",
        ),
    ],
)
def test_a_bad_suppression_is_one_line_naming_the_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "suppressions.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as err:
        load_suppressions(path)
    assert str(err.value) == f"{path}: {message}" or str(err.value).startswith(f"{path}: {message}")


def test_the_shipped_suppressions_load() -> None:
    rules = load_suppressions()
    assert rules.terraform_plan and rules.kubernetes


@pytest.mark.long
def test_every_environment_scans_clean_with_every_resource_read() -> None:
    plans = {env: planned(env).plan for env in ENVS}
    result = scan_plans(plans)
    for env, plan in plans.items():
        aws_count = sum(
            1
            for r in plan["resources"]
            if r["custom"] and r["type"].startswith(("aws:", "random:"))
        )
        assert result.exported[env] == aws_count
        for framework, res in result.environments[env].items():
            assert res.failed == [], (env, framework, res.failed)
            assert res.passed > 0, (env, framework)
    # checkov parsed every exported resource of every environment
    assert result.read["terraform_plan"] == sum(result.exported.values())
    assert result.unused == []
