"""The AWS backend: each handler makes moto hold what AWS would, and refuses, in one line
naming the AWS error, what AWS would refuse (including what moto alone accepts)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from mlops.engine import fakes
from mlops.engine.aws_backend import HANDLERS, AwsRejected, Backend
from mlops.engine.fakes import Ctx

CTX = Ctx(stack="test", region="us-east-1")


@pytest.fixture
def aws() -> Iterator[Backend]:
    with Backend(CTX) as backend:
        yield backend


def create(b: Backend, typ: str, logical: str, **inputs: Any) -> dict[str, Any]:
    """Register a resource as a plan would: fake state first, then moto."""
    _, state = fakes.new_resource(CTX, typ, logical, inputs)
    assert b.apply(typ, logical, inputs, state), f"{typ} is not modelled"
    return state


BUCKET = "aws:s3/bucket:Bucket"


def test_a_bucket_exists_in_moto_with_its_tags(aws: Backend) -> None:
    create(aws, BUCKET, "b", bucket="mlops-test-bucket", tags={"owner": "me"})
    s3 = aws.client("s3")
    assert "mlops-test-bucket" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert s3.get_bucket_tagging(Bucket="mlops-test-bucket")["TagSet"] == [
        {"Key": "owner", "Value": "me"}
    ]


@pytest.mark.parametrize("name", ["Bad_Name", "a..b", "10.0.0.1", "ab"])
def test_bucket_names_aws_refuses_moto_accepts(aws: Backend, name: str) -> None:
    with pytest.raises(AwsRejected, match="InvalidBucketName"):
        create(aws, BUCKET, "b", bucket=name)


def test_versioning_status_must_be_one_aws_knows(aws: Backend) -> None:
    create(aws, BUCKET, "b", bucket="mlops-versioned")
    typ = "aws:s3/bucketVersioning:BucketVersioning"
    create(aws, typ, "v", bucket="mlops-versioned", versioningConfiguration={"status": "Enabled"})
    status = aws.client("s3").get_bucket_versioning(Bucket="mlops-versioned")["Status"]
    assert status == "Enabled"
    with pytest.raises(AwsRejected, match="MalformedXML"):
        create(aws, typ, "v2", bucket="mlops-versioned", versioningConfiguration={"status": "On"})


def test_encryption_needs_a_real_algorithm_and_an_existing_key(aws: Backend) -> None:
    create(aws, BUCKET, "b", bucket="mlops-encrypted")
    typ = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"

    def rule(algorithm: str, key: str | None = None) -> list[dict[str, Any]]:
        default = {"sseAlgorithm": algorithm, **({"kmsMasterKeyId": key} if key else {})}
        return [{"applyServerSideEncryptionByDefault": default}]

    with pytest.raises(AwsRejected, match="SSE algorithm 'ROT13'"):
        create(aws, typ, "e1", bucket="mlops-encrypted", rules=rule("ROT13"))
    with pytest.raises(AwsRejected, match=r"KMS\.NotFoundException"):
        create(aws, typ, "e2", bucket="mlops-encrypted", rules=rule("aws:kms", "no-such-key"))
    key = create(aws, "aws:kms/key:Key", "k", description="test")
    create(aws, typ, "e3", bucket="mlops-encrypted", rules=rule("aws:kms", key["arn"]))
    held = aws.client("s3").get_bucket_encryption(Bucket="mlops-encrypted")
    (applied,) = held["ServerSideEncryptionConfiguration"]["Rules"]
    assert applied["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


def test_bucket_policies_are_checked_as_aws_checks_them(aws: Backend) -> None:
    create(aws, BUCKET, "b", bucket="mlops-policy")
    create(
        aws,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "pab",
        bucket="mlops-policy",
        blockPublicAcls=True,
        blockPublicPolicy=True,
        ignorePublicAcls=True,
        restrictPublicBuckets=True,
    )
    typ = "aws:s3/bucketPolicy:BucketPolicy"

    def policy(**statement: Any) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    with pytest.raises(AwsRejected, match="MalformedPolicy"):  # moto accepts any text
        create(aws, typ, "p0", bucket="mlops-policy", policy="not json")
    with pytest.raises(AwsRejected, match="invalid resource"):
        create(
            aws,
            typ,
            "p1",
            bucket="mlops-policy",
            policy=policy(
                Effect="Deny",
                Principal="*",
                Action="s3:*",
                Resource="arn:aws:s3:::another-bucket/*",
            ),
        )
    with pytest.raises(AwsRejected, match="public access block"):
        create(
            aws,
            typ,
            "p2",
            bucket="mlops-policy",
            policy=policy(
                Effect="Allow",
                Principal="*",
                Action="s3:GetObject",
                Resource="arn:aws:s3:::mlops-policy/*",
            ),
        )
    tls_only = policy(
        Effect="Deny",
        Principal={"AWS": "*"},
        Action="s3:*",
        Resource=["arn:aws:s3:::mlops-policy", "arn:aws:s3:::mlops-policy/*"],
        Condition={"Bool": {"aws:SecureTransport": "false"}},
    )
    create(aws, typ, "p3", bucket="mlops-policy", policy=tls_only)
    assert json.loads(aws.client("s3").get_bucket_policy(Bucket="mlops-policy")["Policy"])


def test_identity_policies_reach_moto_and_its_checks(aws: Backend) -> None:
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    role = create(aws, "aws:iam/role:Role", "r", name="mlops-test-role", assumeRolePolicy=trust)
    assert role["arn"].endswith(":role/mlops-test-role")
    create(
        aws,
        "aws:iam/rolePolicy:RolePolicy",
        "rp",
        name="access",
        role="mlops-test-role",
        policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
                ],
            }
        ),
    )
    assert aws.client("iam").list_role_policies(RoleName="mlops-test-role")["PolicyNames"] == [
        "access"
    ]
    with pytest.raises(AwsRejected):  # no service prefix: IAM refuses the action
        create(
            aws,
            "aws:iam/rolePolicy:RolePolicy",
            "bad",
            name="bad",
            role="mlops-test-role",
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "GetObject", "Resource": "*"}],
                }
            ),
        )


def test_rds_refuses_what_rds_refuses(aws: Backend) -> None:
    base = {
        "identifier": "mlops-test",
        "engine": "postgres",
        "engineVersion": "16.4",
        "username": "admin_user",
        "password": "p" * 16,
        "allocatedStorage": 20,
    }
    with pytest.raises(AwsRejected, match=r"does not offer DB instance class 'db\.nope\.large'"):
        create(aws, "aws:rds/instance:Instance", "db1", instanceClass="db.nope.large", **base)
    with pytest.raises(AwsRejected, match="master passwords are 8-128"):
        create(
            aws,
            "aws:rds/instance:Instance",
            "db2",
            instanceClass="db.t4g.micro",
            **{**base, "password": "short"},
        )
    with pytest.raises(AwsRejected, match="Max storage size must be greater"):
        create(
            aws,
            "aws:rds/instance:Instance",
            "db3",
            instanceClass="db.t4g.micro",
            maxAllocatedStorage=20,
            **base,
        )
    create(aws, "aws:rds/instance:Instance", "db4", instanceClass="db.t4g.micro", **base)
    (held,) = aws.client("rds").describe_db_instances()["DBInstances"]
    assert (held["DBInstanceIdentifier"], held["Engine"]) == ("mlops-test", "postgres")


def test_rds_manages_the_master_password_when_asked(aws: Backend) -> None:
    """AWS accepts no password with manage_master_user_password, and refuses both."""
    base = {
        "engine": "postgres",
        "engineVersion": "17.7",
        "username": "admin_user",
        "allocatedStorage": 20,
        "instanceClass": "db.t4g.micro",
        "manageMasterUserPassword": True,
    }
    create(aws, "aws:rds/instance:Instance", "managed", identifier="mlops-managed", **base)
    with pytest.raises(AwsRejected, match="cannot be given with ManageMasterUserPassword"):
        create(
            aws,
            "aws:rds/instance:Instance",
            "both",
            identifier="mlops-both",
            password="p" * 16,
            **base,
        )


def test_our_ids_are_translated_to_motos(aws: Backend) -> None:
    vpc = create(aws, "aws:ec2/vpc:Vpc", "vpc", cidrBlock="10.9.0.0/16")
    # the plan's fake id stands for moto's real one inside later inputs, JSON included
    assert aws.translate({"VpcId": vpc["id"]}) != {"VpcId": vpc["id"]}
    subnet = create(
        aws,
        "aws:ec2/subnet:Subnet",
        "s",
        vpcId=vpc["id"],
        cidrBlock="10.9.1.0/24",
        availabilityZone="us-east-1a",
    )
    (held,) = [
        s
        for s in aws.client("ec2").describe_subnets()["Subnets"]
        if s["CidrBlock"] == "10.9.1.0/24"
    ]
    assert aws.translate(subnet["id"]) == held["SubnetId"]


def test_a_type_without_a_handler_is_not_claimed(aws: Backend) -> None:
    assert "aws:sagemaker/domain:Domain" not in HANDLERS
    assert aws.apply("aws:sagemaker/domain:Domain", "d", {}, {}) is False


def test_a_failure_inside_a_handler_names_the_resource_instead_of_crashing(aws: Backend) -> None:
    # a policy without its bucket: the handler itself fails; the plan still gets one line
    with pytest.raises(AwsRejected, match=r"moto could not model it \(KeyError"):
        aws.apply("aws:s3/bucketPolicy:BucketPolicy", "p", {"policy": "{}"}, {})


def _grants(count: int) -> str:
    """A policy document of ``count`` distinct statements (about 90 characters each)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": f"S{i}",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::bucket-{i:04d}/*",
                }
                for i in range(count)
            ],
        },
        indent=2,
    )


def test_iam_policy_size_quotas_are_enforced_as_iam_counts_them(aws: Backend) -> None:
    # moto accepts any size; IAM refuses a managed policy over 6,144 characters, a role's
    # inline policies together over 10,240, a trust policy over 2,048 (white space free)
    small, large = _grants(60), _grants(80)
    assert len(small) > 6144 and len(re.sub(r"\s", "", small)) < 6144  # indentation is free
    create(aws, "aws:iam/policy:Policy", "ok", name="fits", policy=small)
    with pytest.raises(AwsRejected, match="LimitExceeded: Cannot exceed quota for PolicySize"):
        create(aws, "aws:iam/policy:Policy", "big", name="too-big", policy=large)

    def trust(subjects: int) -> str:
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Principal": {
                            "Federated": "arn:aws:iam::123456789012:oidc-provider/x.example"
                        },
                        "Condition": {
                            "StringEquals": {
                                "x.example:sub": [
                                    f"repo:acme/platform:environment:env-{i:03d}"
                                    for i in range(subjects)
                                ]
                            }
                        },
                    }
                ],
            }
        )

    with pytest.raises(AwsRejected, match="ACLSizePerRole"):
        create(aws, "aws:iam/role:Role", "wide", name="wide-trust", assumeRolePolicy=trust(60))
    create(aws, "aws:iam/role:Role", "r", name="inline-role", assumeRolePolicy=trust(2))
    create(aws, "aws:iam/rolePolicy:RolePolicy", "a", name="a", role="inline-role", policy=small)
    with pytest.raises(AwsRejected, match="aggregate inline policies"):
        create(
            aws,
            "aws:iam/rolePolicy:RolePolicy",
            "b",
            name="b",
            role="inline-role",
            policy=_grants(55),
        )
