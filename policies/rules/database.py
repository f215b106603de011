"""Databases: RDS encrypted, private, backed up, deletion-protected; caches and tables encrypted."""

from __future__ import annotations

from pulumi_policy import Policy, ReportViolation, ResourceValidationArgs

from .common import as_int, config, get, is_true, resource_policy

RDS = ("aws:rds/instance:Instance", "aws:rds/cluster:Cluster")
DEFAULT_MIN_BACKUP_DAYS = 7


def _check_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_true(args.props.get("storageEncrypted")):
        report("Storage is not encrypted (storageEncrypted).", None)
    elif not args.props.get("kmsKeyId"):
        report("Storage is encrypted with the AWS-managed key: set kmsKeyId to a "
               "customer-managed key.", None)


def _check_private(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if is_true(args.props.get("publiclyAccessible")):
        report("The database is publicly accessible (publiclyAccessible).", None)


def _check_backups(args: ResourceValidationArgs, report: ReportViolation) -> None:
    minimum = int(config(args, "minimum_days", DEFAULT_MIN_BACKUP_DAYS))
    days = as_int(args.props.get("backupRetentionPeriod"))
    # AWS keeps 1 day for an instance when the input is unset
    if (days if days is not None else 1) < minimum:
        report(f"Backups are kept {days if days is not None else 'the default 1'} day(s); "
               f"at least {minimum} required (backupRetentionPeriod).", None)


def _check_deletion_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    # no config turns this off: an environment that accepts the risk lowers the rule to
    # advisory, where it still reports (policies/README.md, "Pack config")
    if not is_true(args.props.get("deletionProtection")):
        report("Deletion protection is off (deletionProtection).", None)
    if args.resource_type == RDS[0] and is_true(args.props.get("skipFinalSnapshot")):
        report("No final snapshot is taken on deletion (skipFinalSnapshot).", None)


def _check_multi_az(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != RDS[0]:
        return
    if not is_true(args.props.get("multiAz")):
        report("The instance runs in a single availability zone (multiAz).", None)


def _check_elasticache(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if not is_true(props.get("atRestEncryptionEnabled")):
        report("Data at rest is not encrypted (atRestEncryptionEnabled).", None)
    if not is_true(props.get("transitEncryptionEnabled")):
        report("Traffic is not encrypted in transit (transitEncryptionEnabled).", None)
    if not props.get("authToken") and not props.get("userGroupIds"):
        report("No AUTH token or user group: any client in the network can connect.", None)


def _check_dynamodb(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_true(get(args.props, "pointInTimeRecovery", "enabled")):
        report("Point-in-time recovery is off (pointInTimeRecovery.enabled).", None)
    sse = get(args.props, "serverSideEncryption")
    if not is_true(get(sse, "enabled")) or not get(sse, "kmsKeyArn"):
        report("The table is not encrypted with a customer-managed KMS key "
               "(serverSideEncryption.kmsKeyArn).", None)


POLICIES: list[Policy] = [
    resource_policy("rds-storage-encrypted",
                    "RDS storage is encrypted with a customer-managed KMS key.",
                    RDS, _check_encrypted),
    resource_policy("rds-not-publicly-accessible", "RDS databases are not publicly accessible.",
                    RDS, _check_private),
    resource_policy(
        "rds-backup-retention", "RDS automated backups are kept long enough.",
        RDS, _check_backups,
        schema={"minimum_days": {"type": "integer", "minimum": 1, "maximum": 35,
                                 "default": DEFAULT_MIN_BACKUP_DAYS}}),
    resource_policy("rds-deletion-protection",
                    "RDS databases are deletion-protected and keep a final snapshot.",
                    RDS, _check_deletion_protection),
    resource_policy("rds-multi-az", "RDS instances run in more than one availability zone.",
                    RDS, _check_multi_az),
    resource_policy(
        "elasticache-encrypted",
        "ElastiCache replication groups encrypt at rest and in transit and require AUTH.",
        ("aws:elasticache/replicationGroup:ReplicationGroup",), _check_elasticache),
    resource_policy(
        "dynamodb-table-protected",
        "DynamoDB tables have point-in-time recovery and customer-managed KMS encryption.",
        ("aws:dynamodb/table:Table",), _check_dynamodb),
]
