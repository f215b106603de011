"""CodeBuild: projects."""

from __future__ import annotations

import json
import re
from typing import Any

from mlops.engine.aws_backend.dispatch import (
    AwsRejected,
    Backend,
    as_list,
    handles,
    tags,
)
from mlops.engine.aws_backend.ec2 import subnet_zones

_CODEBUILD_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$")
_CODEBUILD_VARIABLE_TYPES = ("PLAINTEXT", "PARAMETER_STORE", "SECRETS_MANAGER")


def _bounded(inputs: dict[str, Any], key: str, low: int, high: int) -> int | None:
    value = inputs.get(key)
    if value is None:
        return None
    if not low <= int(value) <= high:
        raise AwsRejected(f"InvalidInputException: {key} {value} is not {low}..{high}")
    return int(value)


@handles("aws:codebuild/project:Project")
def _codebuild_project(
    b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]
) -> None:
    """moto checks the shape; AWS also checks the role, the VPC settings and the limits."""
    project = state["name"]
    if not _CODEBUILD_PROJECT.match(project):
        raise AwsRejected(f"InvalidInputException: project name {project!r} is not valid")
    role_arn = str(inputs.get("serviceRole") or "")
    iam = b.client("iam")
    trust = iam.get_role(RoleName=role_arn.rsplit("/", 1)[-1])["Role"]["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(trust)
    services = [
        service
        for st in as_list(trust.get("Statement"))
        if isinstance(st, dict) and st.get("Effect") == "Allow"
        for service in as_list((st.get("Principal") or {}).get("Service"))
    ]
    if "codebuild.amazonaws.com" not in services:
        raise AwsRejected(
            f"InvalidInputException: CodeBuild is not authorized to perform sts:AssumeRole "
            f"on {role_arn}"
        )
    timeout = _bounded(inputs, "buildTimeout", 5, 2160)
    queued = _bounded(inputs, "queuedTimeout", 5, 480)
    limit = inputs.get("concurrentBuildLimit")
    if limit is not None and int(limit) < 1:
        raise AwsRejected(f"InvalidInputException: concurrentBuildLimit {limit} is below 1")
    env = dict(inputs.get("environment") or {})
    variables = []
    for var in env.get("environmentVariables") or []:
        kind = var.get("type") or "PLAINTEXT"
        if kind not in _CODEBUILD_VARIABLE_TYPES:
            raise AwsRejected(f"InvalidInputException: environment variable type {kind!r}")
        variables.append({"name": var["name"], "value": str(var["value"]), "type": kind})
    environment: dict[str, Any] = {
        "type": env.get("type"),
        "image": env.get("image"),
        "computeType": env.get("computeType"),
        "privilegedMode": bool(env.get("privilegedMode", False)),
        "environmentVariables": variables,
    }
    if env.get("imagePullCredentialsType"):
        environment["imagePullCredentialsType"] = env["imagePullCredentialsType"]
    kwargs: dict[str, Any] = {
        "name": project,
        "source": {
            k: v
            for k, v in {
                "type": (inputs.get("source") or {}).get("type"),
                "location": (inputs.get("source") or {}).get("location"),
                "buildspec": (inputs.get("source") or {}).get("buildspec"),
            }.items()
            if v is not None
        },
        "artifacts": {"type": (inputs.get("artifacts") or {}).get("type", "NO_ARTIFACTS")},
        "environment": environment,
        "serviceRole": role_arn,
        "tags": [{"key": t["Key"], "value": t["Value"]} for t in tags(inputs)],
    }
    vpc = inputs.get("vpcConfig")
    if vpc:
        subnets, groups = list(vpc.get("subnets") or []), list(vpc.get("securityGroupIds") or [])
        if not subnets or not 1 <= len(groups) <= 5:
            raise AwsRejected(
                "InvalidInputException: a VPC config needs subnets and 1 to 5 security groups"
            )
        ec2 = b.client("ec2")
        _, vpcs = subnet_zones(b, subnets)
        found = ec2.describe_security_groups(GroupIds=groups)["SecurityGroups"]
        vpcs |= {g["VpcId"] for g in found}
        if vpcs != {vpc.get("vpcId")}:
            raise AwsRejected(
                f"InvalidInputException: subnets and security groups must be in VPC "
                f"{vpc.get('vpcId')}, they are in {sorted(vpcs)}"
            )
        kwargs["vpcConfig"] = {
            "vpcId": vpc["vpcId"],
            "subnets": subnets,
            "securityGroupIds": groups,
        }
    if timeout is not None:
        kwargs["timeoutInMinutes"] = timeout
    if queued is not None:
        kwargs["queuedTimeoutInMinutes"] = queued
    logs = (inputs.get("logsConfig") or {}).get("cloudwatchLogs") or {}
    if logs:
        watch = {"status": logs.get("status", "ENABLED"), "groupName": logs.get("groupName")}
        kwargs["logsConfig"] = {"cloudWatchLogs": {k: v for k, v in watch.items() if v}}
    b.client("codebuild").create_project(**kwargs)
