"""Databases: RDS encrypted, private, backed up, deletion-protected; every data store
private; caches and tables encrypted.

Public access is read as AWS decides it, defaults included: an RDS instance is private
unless ``publiclyAccessible`` (pulumi-aws sends false when unset); an Aurora cluster
instance or a Multi-AZ DB cluster left unset is public when it has no DB subnet group
(or the ``default`` one), and a DMS replication instance left unset is public; an
OpenSearch domain without ``vpcOptions`` has a public endpoint. A value the plan does not
show is a violation saying so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from .common import (
    SECRET,
    as_dict,
    as_int,
    as_list,
    config,
    customer_key_problem,
    get,
    is_true,
    resource_policy,
    resources_of,
    stack_policy,
)

RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RDS = (RDS_INSTANCE, RDS_CLUSTER)
DEFAULT_MIN_BACKUP_DAYS = 7


def _check_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_true(args.props.get("storageEncrypted")):
        report("Storage is not encrypted (storageEncrypted).", None)
    elif not args.props.get("kmsKeyId"):
        report(
            "Storage is encrypted with the AWS-managed key: set kmsKeyId to a "
            "customer-managed key.",
            None,
        )
    elif (problem := customer_key_problem(args.props.get("kmsKeyId"))) is not None:
        report(f"Storage is not encrypted with a customer-managed key (kmsKeyId): {problem}.", None)


def _flag(value: Any) -> bool | str | None:
    """True, False, None (unset) or "hidden" (a value the plan does not show)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return "hidden"


def _default_subnets(props: Mapping[str, Any]) -> bool:
    group = props.get("dbSubnetGroupName")
    return group is None or (isinstance(group, str) and group.lower() == "default")


def _check_private(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    value = _flag(props.get("publiclyAccessible"))
    if value is True:
        report("The database is publicly accessible (publiclyAccessible).", None)
    elif value == "hidden":
        report(
            f"publiclyAccessible cannot be seen ({props.get('publiclyAccessible')!r}): the "
            "database may be public.",
            None,
        )
    elif (
        value is None
        and args.resource_type == RDS_CLUSTER_INSTANCE
        and _default_subnets(props)
        and props.get("dbSubnetGroupName") is not None
    ):
        report(
            "publiclyAccessible is unset in the default DB subnet group, where AWS makes "
            "the instance public: set publiclyAccessible: false.",
            None,
        )
    elif (
        value is None
        and args.resource_type == RDS_CLUSTER
        and props.get("dbClusterInstanceClass")
        and _default_subnets(props)
    ):
        report(
            "publiclyAccessible is unset on a Multi-AZ DB cluster without a DB subnet "
            "group, which AWS makes public: set publiclyAccessible: false.",
            None,
        )


# what makes each other data store reachable from the internet
def _public_flag(key: str, default_public: bool = False) -> Any:
    def check(props: Mapping[str, Any]) -> str | None:
        value = _flag(props.get(key))
        if value is True:
            return f"it is publicly accessible ({key})"
        if value == "hidden":
            return f"{key} cannot be seen ({props.get(key)!r})"
        if value is None and default_public:
            return f"{key} is unset, and AWS makes it public by default"
        return None

    return check


def _search_domain(props: Mapping[str, Any]) -> str | None:
    vpc = props.get("vpcOptions")
    if vpc is not None and not isinstance(vpc, Mapping):
        return f"vpcOptions cannot be seen ({vpc!r})"
    if not as_list(as_dict(vpc).get("subnetIds")):
        return "it has a public endpoint (no vpcOptions.subnetIds)"
    return None


def _msk(props: Mapping[str, Any]) -> str | None:
    public = get(props, "brokerNodeGroupInfo", "connectivityInfo", "publicAccess", "type")
    if public is None or public == "DISABLED":
        return None
    return f"its brokers are public (publicAccess.type {public!r})"


def _public_snapshot(props: Mapping[str, Any]) -> str | None:
    shared = props.get("sharedAccounts")
    if shared is not None and (isinstance(shared, str) or not isinstance(shared, Sequence)):
        return f"sharedAccounts cannot be seen ({shared!r})"
    if any(str(a).lower() == "all" for a in as_list(shared)):
        return "the snapshot is shared with every AWS account (sharedAccounts: all)"
    return None


def _serverless_network(props: Mapping[str, Any]) -> str | None:
    if props.get("type") != "network":
        return None
    doc = props.get("policy")
    try:
        rules = json.loads(doc) if isinstance(doc, str) and doc != SECRET else doc
    except ValueError:
        rules = None
    if not isinstance(rules, (list, Mapping)):
        return f"the network policy cannot be seen ({doc!r})"
    if any(
        isinstance(r, Mapping) and r.get("AllowFromPublic") is not False for r in as_list(rules)
    ):
        return "its network policy allows access from the public internet (AllowFromPublic)"
    return None


DATA_STORES: dict[str, Any] = {
    "aws:rds/snapshot:Snapshot": _public_snapshot,
    "aws:rds/clusterSnapshot:ClusterSnapshot": _public_snapshot,
    "aws:rds/snapshotCopy:SnapshotCopy": _public_snapshot,
    "aws:opensearch/serverlessSecurityPolicy:ServerlessSecurityPolicy": _serverless_network,
    "aws:neptune/clusterInstance:ClusterInstance": _public_flag("publiclyAccessible"),
    "aws:redshift/cluster:Cluster": _public_flag("publiclyAccessible"),
    "aws:redshiftserverless/workgroup:Workgroup": _public_flag("publiclyAccessible"),
    "aws:dms/replicationInstance:ReplicationInstance": _public_flag(
        "publiclyAccessible", default_public=True
    ),
    "aws:lightsail/database:Database": _public_flag("publiclyAccessible"),
    "aws:opensearch/domain:Domain": _search_domain,
    "aws:elasticsearch/domain:Domain": _search_domain,
    "aws:msk/cluster:Cluster": _msk,
}


def _check_data_store_private(args: ResourceValidationArgs, report: ReportViolation) -> None:
    problem = DATA_STORES[args.resource_type](args.props)
    if problem:
        report(f"The data store is reachable from the internet: {problem}.", None)


def _check_backups(args: ResourceValidationArgs, report: ReportViolation) -> None:
    minimum = int(config(args, "minimum_days", DEFAULT_MIN_BACKUP_DAYS))
    days = as_int(args.props.get("backupRetentionPeriod"))
    # AWS keeps 1 day for an instance when the input is unset
    if (days if days is not None else 1) < minimum:
        report(
            f"Backups are kept {days if days is not None else 'the default 1'} day(s); "
            f"at least {minimum} required (backupRetentionPeriod).",
            None,
        )


def _check_deletion_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    # no config turns this off: an environment that accepts the risk lowers the rule to
    # advisory, where it still reports (policies/README.md, "Pack config")
    if not is_true(args.props.get("deletionProtection")):
        report("Deletion protection is off (deletionProtection).", None)
    if args.resource_type == RDS_INSTANCE and is_true(args.props.get("skipFinalSnapshot")):
        report("No final snapshot is taken on deletion (skipFinalSnapshot).", None)


def _check_multi_az(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != RDS_INSTANCE:
        return
    if not is_true(args.props.get("multiAz")):
        report("The instance runs in a single availability zone (multiAz).", None)


REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_CLUSTER = "aws:elasticache/cluster:Cluster"
SERVERLESS_CACHE = "aws:elasticache/serverlessCache:ServerlessCache"
MEMORYDB = "aws:memorydb/cluster:Cluster"


USER_GROUP = "aws:elasticache/userGroup:UserGroup"
CACHE_USER = "aws:elasticache/user:User"
USER_GROUP_ASSOCIATION = "aws:elasticache/userGroupAssociation:UserGroupAssociation"
# AWS's own user of every Redis/Valkey cache: no password, every command on every key
BUILTIN_DEFAULT_USER = "default"


def _linked(
    args: StackValidationArgs, owner: PolicyResource, prop: str, type_: str, key: str
) -> tuple[list[PolicyResource], list[str]]:
    """The resources of ``type_`` that ``owner.<prop>`` names (by dependency, else by their
    ``key`` value), and the values naming none of the plan's."""
    values = [v for v in as_list(owner.props.get(prop)) if v is not None]
    deps = [d for d in owner.property_dependencies.get(prop) or [] if d.resource_type == type_]
    if deps and len(deps) >= len(values):
        return deps, []
    found, missing = list(deps), []
    for value in values:
        match = [
            r
            for r in resources_of(args, type_)
            if isinstance(value, str) and value != SECRET and r.props.get(key) == value
        ]
        if match:
            found += [r for r in match if r not in found]
        elif not deps:
            missing.append(str(value))
    return found, missing


def _user_group_problems(args: StackValidationArgs, cache: PolicyResource, prop: str) -> list[str]:
    """Who a user group lets connect: every user of every group ``cache.<prop>`` names must
    need a password (or IAM), or be switched off. AWS's own `default` user needs none, and a
    group (or user) outside the plan cannot be seen (fail closed)."""
    groups, missing = _linked(args, cache, prop, USER_GROUP, "userGroupId")
    problems = [
        f"User group {g!r} is not in the plan: who may connect cannot be seen." for g in missing
    ]
    for group in groups:
        label = group.props.get("userGroupId") or group.name
        members: list[tuple[Any, list[PolicyResource]]] = []
        holders = [group] + [
            a
            for a in resources_of(args, USER_GROUP_ASSOCIATION)
            if any(d.urn == group.urn for d in a.property_dependencies.get("userGroupId") or [])
            or a.props.get("userGroupId") == group.props.get("userGroupId")
        ]
        for holder in holders:
            prop_name = "userIds" if holder is group else "userId"
            for user_id in as_list(holder.props.get(prop_name)):
                # by the user's id (an input, so the plan and the update both show it)
                users = [
                    u
                    for u in resources_of(args, CACHE_USER)
                    if isinstance(user_id, str) and u.props.get("userId") == user_id
                ]
                members.append((user_id, users))
        for user_id, users in members:
            if not users and user_id == BUILTIN_DEFAULT_USER:
                problems.append(
                    f"User group {label!r} holds AWS's built-in 'default' user, which needs no "
                    "password and may run every command: any client in the network can "
                    "connect (add a user named 'default' of your own, switched off)."
                )
            elif not users:
                problems.append(
                    f"User group {label!r} holds user {user_id!r}, which is not in the plan: "
                    "whether it needs a password cannot be seen."
                )
            for user in users:
                mode = get(user.props, "authenticationMode", "type")
                open_ = is_true(user.props.get("noPasswordRequired")) or (
                    mode == "no-password-required"
                )
                access = str(user.props.get("accessString") or "")
                if open_ and access.split(" ", 1)[0] != "off":
                    problems.append(
                        f"User group {label!r} holds user {user_id!r}, which needs no "
                        f"password (access string {access!r}): any client in the network "
                        "can connect as it."
                    )
    return problems


def _replication_group_problems(props: Mapping[str, Any]) -> list[str]:
    problems = []
    if not is_true(props.get("atRestEncryptionEnabled")):
        problems.append("Data at rest is not encrypted (atRestEncryptionEnabled).")
    if not is_true(props.get("transitEncryptionEnabled")):
        problems.append("Traffic is not encrypted in transit (transitEncryptionEnabled).")
    elif props.get("transitEncryptionMode") not in (None, "required"):
        problems.append(
            f"transitEncryptionMode is {props.get('transitEncryptionMode')!r}: "
            "clients may still connect in plain text (use 'required')."
        )
    if not props.get("authToken") and not props.get("userGroupIds"):
        problems.append("No AUTH token or user group: any client in the network can connect.")
    return problems


def _cache_cluster_problems(args: StackValidationArgs, cluster: PolicyResource) -> list[str]:
    """A cache cluster outside a replication group cannot encrypt at rest or require AUTH;
    inside one it takes the group's settings, so the group must be one the pack sees."""
    group_id = cluster.props.get("replicationGroupId")
    if group_id is None:
        return [
            "A cache cluster outside a replication group cannot encrypt at rest or require "
            "AUTH: create an aws.elasticache.ReplicationGroup instead."
        ]
    groups = [
        d
        for d in cluster.property_dependencies.get("replicationGroupId") or []
        if d.resource_type == REPLICATION_GROUP
    ] or [
        g
        for g in resources_of(args, REPLICATION_GROUP)
        if isinstance(group_id, str)
        and group_id != SECRET
        and group_id in (g.props.get("replicationGroupId"), g.props.get("id"))
    ]
    if not groups:
        return [
            f"The cluster joins replication group {group_id!r}, which is not in the plan: "
            "its encryption and AUTH cannot be seen."
        ]
    return []


def _serverless_problems(props: Mapping[str, Any]) -> list[str]:
    # serverless caches always encrypt at rest and in transit; AUTH needs a user group
    # (whose users `_user_group_problems` judges)
    engine = str(props.get("engine", "")).lower()
    if engine == "memcached":
        return [
            "A serverless Memcached cache cannot require authentication: use Valkey or "
            "Redis OSS with a user group."
        ]
    if not props.get("userGroupId"):
        return ["No user group (userGroupId): any client in the network can connect."]
    return []


def _memorydb_problems(props: Mapping[str, Any]) -> list[str]:
    problems = []
    if _flag(props.get("tlsEnabled")) not in (None, True):
        problems.append("Traffic is not encrypted in transit (tlsEnabled).")
    acl = props.get("aclName")
    if not acl or acl == "open-access":
        problems.append(f"ACL {acl!r} lets any client connect without authentication.")
    return problems


def _check_caches(args: StackValidationArgs, report: ReportViolation) -> None:
    for r in args.resources:
        if r.resource_type == REPLICATION_GROUP:
            problems = _replication_group_problems(r.props)
            if r.props.get("userGroupIds"):
                problems += _user_group_problems(args, r, "userGroupIds")
        elif r.resource_type == CACHE_CLUSTER:
            problems = _cache_cluster_problems(args, r)
        elif r.resource_type == SERVERLESS_CACHE:
            problems = _serverless_problems(r.props)
            if r.props.get("userGroupId"):
                problems += _user_group_problems(args, r, "userGroupId")
        elif r.resource_type == MEMORYDB:
            problems = _memorydb_problems(r.props)
        else:
            continue
        for problem in problems:
            report(problem, r.urn)


def _check_dynamodb(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_true(get(args.props, "pointInTimeRecovery", "enabled")):
        report("Point-in-time recovery is off (pointInTimeRecovery.enabled).", None)
    sse = get(args.props, "serverSideEncryption")
    if not is_true(get(sse, "enabled")) or not get(sse, "kmsKeyArn"):
        report(
            "The table is not encrypted with a customer-managed KMS key "
            "(serverSideEncryption.kmsKeyArn).",
            None,
        )
    elif (problem := customer_key_problem(get(sse, "kmsKeyArn"))) is not None:
        report(
            "The table is not encrypted with a customer-managed KMS key "
            f"(serverSideEncryption.kmsKeyArn): {problem}.",
            None,
        )


POLICIES: list[Policy] = [
    resource_policy(
        "rds-storage-encrypted",
        "RDS storage is encrypted with a customer-managed KMS key.",
        RDS,
        _check_encrypted,
    ),
    resource_policy(
        "rds-not-publicly-accessible",
        "RDS databases (instances, clusters, Aurora cluster instances) are not publicly "
        "accessible.",
        (*RDS, RDS_CLUSTER_INSTANCE),
        _check_private,
    ),
    resource_policy(
        "data-store-not-publicly-accessible",
        "Other data stores (Neptune, Redshift, DMS, Lightsail, OpenSearch and its serverless "
        "collections, MSK, RDS snapshots) are not reachable from the internet.",
        tuple(DATA_STORES),
        _check_data_store_private,
    ),
    resource_policy(
        "rds-backup-retention",
        "RDS automated backups are kept long enough.",
        RDS,
        _check_backups,
        schema={
            "minimum_days": {
                "type": "integer",
                "minimum": 1,
                "maximum": 35,
                "default": DEFAULT_MIN_BACKUP_DAYS,
            }
        },
    ),
    resource_policy(
        "rds-deletion-protection",
        "RDS databases are deletion-protected and keep a final snapshot.",
        RDS,
        _check_deletion_protection,
    ),
    resource_policy(
        "rds-multi-az",
        "RDS instances run in more than one availability zone.",
        RDS,
        _check_multi_az,
    ),
    stack_policy(
        "elasticache-encrypted",
        "In-memory caches (ElastiCache replication groups, clusters and serverless caches; "
        "MemoryDB) encrypt at rest and in transit and require authentication (a user "
        "group of the plan, none of whose users connects without a password).",
        _check_caches,
        types=(
            REPLICATION_GROUP,
            CACHE_CLUSTER,
            SERVERLESS_CACHE,
            MEMORYDB,
            USER_GROUP,
            CACHE_USER,
            USER_GROUP_ASSOCIATION,
        ),
    ),
    resource_policy(
        "dynamodb-table-protected",
        "DynamoDB tables have point-in-time recovery and customer-managed KMS encryption.",
        ("aws:dynamodb/table:Table",),
        _check_dynamodb,
    ),
]
