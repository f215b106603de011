"""RDS: subnet groups, parameter groups, instances."""

from __future__ import annotations

import re
from typing import Any

from mlops.engine.aws_backend.dispatch import (
    AwsRejected,
    Backend,
    handles,
    tags,
)
from mlops.engine.aws_backend.ec2 import subnet_zones

_RDS_PASSWORD_MAX = {"mysql": 41, "mariadb": 41, "postgres": 128}
_RDS_USER_MAX = {"mysql": 16, "mariadb": 16, "postgres": 63}
_INSTANCE_CLASS = re.compile(
    r"^db\.(t3|t4g|m5|m5d|m6g|m6gd|m6i|m6id|m7g|m7i|m8g|r5|r5b|r5d|r6g"
    r"|r6gd|r6i|r6id|r7g|r7i|r8g|x2g|x2iedn)\.(micro|small|medium|large"
    r"|\d*xlarge)$"
)


@handles("aws:rds/subnetGroup:SubnetGroup")
def _db_subnet_group(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    zones, _ = subnet_zones(b, inputs["subnetIds"])
    if len(zones) < 2:
        raise AwsRejected(
            "DBSubnetGroupDoesNotCoverEnoughAZs: subnets must cover at least 2 availability zones"
        )
    b.client("rds").create_db_subnet_group(
        DBSubnetGroupName=state["name"],
        DBSubnetGroupDescription=inputs.get("description") or "Managed by Pulumi",
        SubnetIds=inputs["subnetIds"],
        Tags=tags(inputs),
    )


@handles("aws:rds/parameterGroup:ParameterGroup")
def _db_parameters(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    rds = b.client("rds")
    rds.create_db_parameter_group(
        DBParameterGroupName=state["name"],
        DBParameterGroupFamily=inputs["family"],
        Description=inputs.get("description") or "Managed by Pulumi",
        Tags=tags(inputs),
    )
    params = inputs.get("parameters") or []
    if params:
        rds.modify_db_parameter_group(
            DBParameterGroupName=state["name"],
            Parameters=[
                {
                    "ParameterName": p["name"],
                    "ParameterValue": str(p["value"]),
                    "ApplyMethod": p.get("applyMethod") or "immediate",
                }
                for p in params
            ],
        )


@handles("aws:rds/instance:Instance")
def _db_instance(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    engine = inputs.get("engine", "")
    instance_class = inputs.get("instanceClass", "")
    if not _INSTANCE_CLASS.match(instance_class):
        raise AwsRejected(
            f"InvalidParameterCombination: RDS does not offer DB instance class {instance_class!r}"
        )
    password, user = inputs.get("password") or "", inputs.get("username") or ""
    # RDS keeps the password in Secrets Manager itself: then none may be given, else one must
    managed = bool(inputs.get("manageMasterUserPassword"))
    if managed and password:
        raise AwsRejected(
            "InvalidParameterCombination: MasterUserPassword cannot be given with "
            "ManageMasterUserPassword"
        )
    if (
        not managed
        and engine in _RDS_PASSWORD_MAX
        and not 8 <= len(password) <= _RDS_PASSWORD_MAX[engine]
    ):
        raise AwsRejected(
            f"InvalidParameterValue: {engine} master passwords are 8-{_RDS_PASSWORD_MAX[engine]} "
            "characters"
        )
    if any(c in password for c in '/@" '):
        raise AwsRejected('InvalidParameterValue: the master password contains / @ " or space')
    if engine in _RDS_USER_MAX and not 1 <= len(user) <= _RDS_USER_MAX[engine]:
        raise AwsRejected(f"InvalidParameterValue: {engine} master user names are 1-16 characters")
    storage, ceiling = int(inputs.get("allocatedStorage") or 0), inputs.get("maxAllocatedStorage")
    if ceiling and int(ceiling) <= storage:
        raise AwsRejected(
            "InvalidParameterCombination: Max storage size must be greater than storage size"
        )
    retention = int(inputs.get("backupRetentionPeriod") or 0)
    if not 0 <= retention <= 35:
        raise AwsRejected(f"InvalidParameterValue: backup retention {retention} is not 0..35")
    if inputs.get("kmsKeyId") and not inputs.get("storageEncrypted"):
        raise AwsRejected("InvalidParameterCombination: a KMS key needs storage encryption")
    kwargs: dict[str, Any] = {
        "DBInstanceIdentifier": state["identifier"],
        "Engine": engine,
        "DBInstanceClass": instance_class,
        "AllocatedStorage": storage,
        "MasterUsername": user,
        "Tags": tags(inputs),
        **({"ManageMasterUserPassword": True} if managed else {"MasterUserPassword": password}),
    }
    for ours, api, cast in (
        ("engineVersion", "EngineVersion", str),
        ("dbName", "DBName", str),
        ("port", "Port", int),
        ("maxAllocatedStorage", "MaxAllocatedStorage", int),
        ("storageType", "StorageType", str),
        ("storageEncrypted", "StorageEncrypted", bool),
        ("kmsKeyId", "KmsKeyId", str),
        ("dbSubnetGroupName", "DBSubnetGroupName", str),
        ("vpcSecurityGroupIds", "VpcSecurityGroupIds", list),
        ("parameterGroupName", "DBParameterGroupName", str),
        ("publiclyAccessible", "PubliclyAccessible", bool),
        ("multiAz", "MultiAZ", bool),
        ("iamDatabaseAuthenticationEnabled", "EnableIAMDatabaseAuthentication", bool),
        ("backupRetentionPeriod", "BackupRetentionPeriod", int),
        ("copyTagsToSnapshot", "CopyTagsToSnapshot", bool),
        ("deletionProtection", "DeletionProtection", bool),
        ("autoMinorVersionUpgrade", "AutoMinorVersionUpgrade", bool),
        ("enabledCloudwatchLogsExports", "EnableCloudwatchLogsExports", list),
        ("performanceInsightsEnabled", "EnablePerformanceInsights", bool),
        ("performanceInsightsKmsKeyId", "PerformanceInsightsKMSKeyId", str),
    ):
        if inputs.get(ours) is not None:
            kwargs[api] = cast(inputs[ours])
    b.client("rds").create_db_instance(**kwargs)
