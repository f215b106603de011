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
    resources = [
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
    # one resource per URN, as the engine registers them (the serving stack repeats the
    # artifact store the S3 stack has)
    return list({r["urn"]: r for r in reversed(resources)}.values())[::-1]


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


def _provider(r: dict[str, Any]) -> proto.AnalyzerProviderResource | None:
    """The provider the engine names for a custom resource (its package's default)."""
    if not r["custom"] or r["type"].startswith("pulumi:providers:"):
        return None
    package = r["type"].split(":", 1)[0]
    urn = "::".join([*r["urn"].split("::")[:2], f"pulumi:providers:{package}", "default"])
    return proto.AnalyzerProviderResource(
        type=f"pulumi:providers:{package}", urn=urn, name="default", properties=_struct({})
    )


def _analyzed(resources: list[dict[str, Any]], config: dict[str, Any]) -> set[tuple[Any, ...]]:
    """What the analyzer reports, as (policy, urn, message, level), for requests as the
    CLI sends them (each custom resource with its provider)."""
    servicer = _servicer(config)
    expected: set[tuple[Any, ...]] = set()
    for r in resources:
        request = proto.AnalyzeRequest(
            type=r["type"],
            properties=_struct(r["inputs"]),
            urn=r["urn"],
            name=r["name"],
            options=proto.AnalyzerResourceOptions(protect=r["protect"]),
            provider=_provider(r),
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
                provider=_provider(r),
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
    return expected | _diagnostics(servicer.AnalyzeStack(stack_request, None), None)


def _offline(
    resources: list[dict[str, Any]], config: dict[str, Any], preview: bool = False
) -> set[tuple[Any, ...]]:
    offline = evaluate(
        {"environment": "prod", "config": config, "resources": resources, "preview": preview}
    )
    return {(v["policy"], v["urn"], v["message"], v["enforcement"]) for v in offline["violations"]}


def test_offline_runner_matches_the_analyzer_on_the_prod_config() -> None:
    config = json.loads((PACK / "config" / "prod.json").read_text())
    # and a type no rule reads: both report it
    resources = [*_resources(), res("aws:sqs/queue:Queue", "q", {"name": "q"})]
    expected = _analyzed(resources, config)
    assert len(expected) >= 8  # the fixture violates something in most areas
    assert ("resource-type-known", resources[-1]["urn"]) in {(p, u) for p, u, *_ in expected}
    assert _offline(resources, config) == expected


UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # Pulumi's unknown string sentinel


def _preview_shaped() -> list[dict[str, Any]]:
    """The fixture as a real `pulumi preview` would see it before anything exists: values
    that come from other resources' outputs are unknown."""
    resources = json.loads(json.dumps(_resources()))
    for r in resources:
        inputs = r["inputs"]
        if r["type"].endswith(":Deployment"):
            inputs["spec"]["template"]["spec"]["containers"][0]["image"] = UNKNOWN
        elif r["type"] == "aws:s3/bucketPolicy:BucketPolicy":
            inputs["policy"] = UNKNOWN
        elif r["type"] == "aws:rds/instance:Instance":
            inputs["kmsKeyId"] = UNKNOWN
        elif r["type"] == "kubernetes:serving.kserve.io/v1beta1:InferenceService":
            inputs["spec"] = UNKNOWN
    return resources


def _during_preview(found: set[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    """(policy, urn, what) of each note that a rule could not run during preview; the
    analyzer's wording names the pack's version, the runner's does not."""
    return {
        (p, u, m.rsplit("during preview: ", 1)[1], level)
        for p, u, m, level in found
        if "during preview: " in m
    }


def test_preview_shaped_plan_keeps_crossguard_behaviour_and_never_passes_silently() -> None:
    """Unknowns during a real preview: the rule that reads one cannot decide, so CrossGuard
    notes it (advisory) and checks it at the update; the pack neither crashes nor stays
    silent, and the offline runner in preview mode reports exactly what the analyzer does."""
    config = json.loads((PACK / "config" / "prod.json").read_text())
    resources = _preview_shaped()
    expected = _analyzed(resources, config)
    got = _offline(resources, config, preview=True)
    notes = _during_preview(expected)
    assert _during_preview(got) == notes
    assert {p for p, *_ in notes} >= {
        "k8s-image-pinned",
        "rds-storage-encrypted",
        "s3-bucket-tls-only",
        "kserve-storage-uri-in-artifact-bucket",
    }
    assert {level for *_, level in notes} == {"advisory"}
    assert not [v for v in got if v[2].startswith("the rule failed")]
    assert {v for v in got if "during preview: " not in v[2]} == {
        v for v in expected if "during preview: " not in v[2]
    }


def test_the_same_unknowns_offline_fail_closed() -> None:
    """Offline there is no update to check them at: a rule that reads an unknown reports,
    at its own level, what it could not see."""
    config = json.loads((PACK / "config" / "prod.json").read_text())
    got = _offline(_preview_shaped(), config)
    unseen = {(p, level) for p, _, m, level in got if m.startswith("Could not see")}
    assert {p for p, _ in unseen} >= {
        "k8s-image-pinned",
        "rds-storage-encrypted",
        "s3-bucket-tls-only",
    }
    assert {level for _, level in unseen} == {"mandatory"}
    assert not _during_preview(got)
