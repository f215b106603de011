"""The offline runner reports what Pulumi's own analyzer reports, on the same resources.

`pulumi preview --policy-pack` talks gRPC to pulumi_policy's analyzer servicer. Here that
servicer (private API, used only to prove parity) is fed the protobuf requests the CLI
sends, with the shipped prod config, and its diagnostics are compared with
`policies.offline.evaluate` on the same plan-shaped resources.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2
from harness import res
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer
from test_network import happy as network_stack
from test_serving import stack as serving_stack
from test_storage import HAPPY as S3_STACK
from test_workloads import POD_SPEC, workload

from policies.offline import PACK_NAME, evaluate, resolve_config
from policies.rules import ALL_POLICIES

PACK = Path(__file__).resolve().parents[2] / "policies"


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(value)
    return s


def _resources() -> list[dict[str, Any]]:
    """A mixed stack: compliant parts plus one violation in several areas."""
    bad_pod = json.loads(json.dumps(POD_SPEC))
    bad_pod["containers"][0]["securityContext"]["privileged"] = True
    bad_pod["containers"][0]["image"] = "app:latest"
    s3 = json.loads(json.dumps(S3_STACK))
    s3 = [r for r in s3 if not r["type"].endswith("BucketVersioning")]
    lb = network_stack()
    lb[1]["inputs"]["ingress"][0]["cidrBlocks"] = ["0.0.0.0/0"]
    return [
        *s3,
        *lb,
        *serving_stack(),
        workload("Deployment", bad_pod),
        res(
            "aws:ec2/launchTemplate:LaunchTemplate",
            "lt",
            {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 3}},
        ),
        res(
            "aws:rds/instance:Instance",
            "db",
            {"storageEncrypted": True, "kmsKeyId": "k", "backupRetentionPeriod": 3, "tags": {}},
        ),
    ]


def _servicer(config: dict[str, Any]) -> _PolicyAnalyzerServicer:
    servicer = _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", ALL_POLICIES, EnforcementLevel.MANDATORY)
    resolved = resolve_config(config, ALL_POLICIES)
    request = proto.ConfigureAnalyzerRequest(
        policyConfig={
            name: proto.PolicyConfig(
                enforcementLevel=servicer._map_enforcement_level(level), properties=_struct(props)
            )
            for name, (level, props) in resolved.items()
        }
    )
    servicer.Configure(request, None)
    return servicer


def _diagnostics(response: Any, default_urn: str | None) -> set[tuple[Any, ...]]:
    out = set()
    for d in response.diagnostics:
        message = d.message.split("\n", 1)[1] if "\n" in d.message else d.message
        level = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory"}[d.enforcementLevel]
        out.add((d.policyName, d.urn or default_urn, message, level))
    return out


def test_analyzer_info_lists_every_policy_with_its_schema() -> None:
    servicer = _servicer({})
    info = servicer.GetAnalyzerInfo(None, None)
    assert info.name == PACK_NAME and info.supportsConfig
    assert [p.name for p in info.policies] == [p.name for p in ALL_POLICIES]
    schemas = {p.name: set(p.configSchema.properties) for p in info.policies}
    assert schemas["rds-backup-retention"] == {"minimum_days"}


def test_offline_runner_matches_the_analyzer_on_the_prod_config() -> None:
    config = json.loads((PACK / "config" / "prod.json").read_text())
    resources = _resources()
    servicer = _servicer(config)
    expected: set[tuple[Any, ...]] = set()
    for r in resources:
        request = proto.AnalyzeRequest(
            type=r["type"],
            properties=_struct(r["inputs"]),
            urn=r["urn"],
            name=r["name"],
            options=proto.AnalyzerResourceOptions(protect=r["protect"]),
        )
        expected |= _diagnostics(servicer.Analyze(request, None), r["urn"])
    stack_request = proto.AnalyzeStackRequest(
        resources=[
            proto.AnalyzerResource(
                type=r["type"],
                properties=_struct(r["inputs"]),
                urn=r["urn"],
                name=r["name"],
                options=proto.AnalyzerResourceOptions(protect=r["protect"]),
                parent=r["parent"] or "",
                dependencies=r["dependencies"],
                propertyDependencies={
                    k: proto.AnalyzerPropertyDependencies(urns=v)
                    for k, v in r["propertyDependencies"].items()
                },
            )
            for r in resources
        ]
    )
    expected |= _diagnostics(servicer.AnalyzeStack(stack_request, None), None)

    offline = evaluate({"environment": "prod", "config": config, "resources": resources})
    got = {(v["policy"], v["urn"], v["message"], v["enforcement"]) for v in offline["violations"]}
    assert len(expected) >= 8  # the fixture violates something in most areas
    assert got == expected
