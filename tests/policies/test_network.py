"""Network rules: public ingress only as HTTPS to load balancers, flow logs, default SG."""

from __future__ import annotations

from typing import Any

import pytest
from harness import messages, res, unseen

SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
LB = "aws:lb/loadBalancer:LoadBalancer"
RDS = "aws:rds/instance:Instance"
PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
INGRESS_POLICY = "security-group-no-public-ingress"
EGRESS_POLICY = "security-group-no-public-egress"
ONLY_443 = "only tcp 443 to a group used by load balancers alone may be open to the internet."


def https(**extra: Any) -> dict[str, Any]:
    return {"fromPort": 443, "toPort": 443, "protocol": "tcp", "cidrBlocks": ["0.0.0.0/0"], **extra}


def happy() -> list[dict[str, Any]]:
    lb_sg = res(SG, "lb", {"name": "lb", "ingress": [https()]})
    db = res(
        SG,
        "db",
        {
            "name": "db",
            "ingress": [
                {"fromPort": 5432, "toPort": 5432, "protocol": "tcp", "cidrBlocks": ["10.0.0.0/16"]}
            ],
        },
    )
    return [
        lb_sg,
        db,
        res(LB, "alb", {"securityGroups": ["sg-1"]}, deps={"securityGroups": [lb_sg]}),
        res(
            INGRESS,
            "lb-v6",
            {
                "securityGroupId": "sg-1",
                "cidrIpv6": "::/0",
                "fromPort": 443,
                "toPort": 443,
                "ipProtocol": "tcp",
            },
            deps={"securityGroupId": [lb_sg]},
        ),
        res(
            SG_RULE,
            "lb-rule",
            {
                "type": "ingress",
                "securityGroupId": "sg-1",
                "fromPort": 443,
                "toPort": 443,
                "protocol": "tcp",
                "cidrBlocks": ["0.0.0.0/0"],
            },
            deps={"securityGroupId": [lb_sg]},
        ),
        res(
            INGRESS,
            "db-from-vpc",
            {
                "securityGroupId": "sg-2",
                "cidrIpv4": "10.0.0.0/16",
                "fromPort": 5432,
                "toPort": 5432,
                "ipProtocol": "tcp",
            },
            deps={"securityGroupId": [db]},
        ),
        res(
            INGRESS,
            "db-from-office",
            {
                "securityGroupId": "sg-2",
                "cidrIpv4": "81.2.69.0/24",
                "fromPort": 5432,
                "toPort": 5432,
                "ipProtocol": "tcp",
            },
            deps={"securityGroupId": [db]},
        ),
    ]


def test_security_group_no_public_ingress_passes() -> None:
    assert messages(INGRESS_POLICY, happy()) == []


def _set(name: str, **change: Any) -> Any:
    def apply(rs: list[dict[str, Any]]) -> None:
        target = next(r for r in rs if r["name"] == name)
        target["inputs"].update(change)

    return apply


def _add(resource: dict[str, Any]) -> Any:
    def apply(rs: list[dict[str, Any]]) -> None:
        rs.append(resource)

    return apply


DB_GROUP = happy()[1]
PUBLIC_FIRST_OCTETS = [i for i in range(1, 224) if i not in (10, 127)]


def _db_rule(name: str, **inputs: Any) -> dict[str, Any]:
    return res(
        INGRESS,
        name,
        {
            "securityGroupId": "sg-2",
            "fromPort": 5432,
            "toPort": 5432,
            "ipProtocol": "tcp",
            **inputs,
        },
        deps={"securityGroupId": [DB_GROUP]},
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _set("db", ingress=[https()]),
            "Ingress to group 'db' on tcp 443: 0.0.0.0/0 reaches 100% of the public IPv4 "
            f"internet; {ONLY_443}",
        ),
        (
            _set("lb", ingress=[https(fromPort=22, toPort=22)]),
            "Ingress to group 'lb' on tcp 22: 0.0.0.0/0 reaches 100% of the public IPv4 "
            f"internet; {ONLY_443}",
        ),
        (
            _set("db-from-vpc", cidrIpv4="0.0.0.0/0"),
            "Ingress to group 'db' on tcp 5432: 0.0.0.0/0 reaches 100% of the public IPv4 "
            f"internet; {ONLY_443}",
        ),
        (
            _set("lb-v6", ipProtocol="-1", fromPort=None, toPort=None),
            "Ingress to group 'lb' on all traffic: ::/0 reaches 100% of the public IPv6 "
            f"internet; {ONLY_443}",
        ),
        (
            _set("lb-rule", fromPort=80, toPort=80),
            "Ingress to group 'lb' on tcp 80: 0.0.0.0/0 reaches 100% of the public IPv4 "
            f"internet; {ONLY_443}",
        ),
    ],
)
def test_security_group_no_public_ingress_fails(change: Any, message: str) -> None:
    rs = happy()
    change(rs)
    assert messages(INGRESS_POLICY, rs) == [message]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            # two halves in one inline rule
            _set(
                "db",
                ingress=[
                    {
                        **https(fromPort=5432, toPort=5432),
                        "cidrBlocks": ["0.0.0.0/1", "128.0.0.0/1"],
                    }
                ],
            ),
            "Ingress to group 'db' on tcp 5432: 0.0.0.0/1, 128.0.0.0/1 together "
            f"reach 100% of the public IPv4 internet; {ONLY_443}",
        ),
        (
            # the halves split across a standalone rule and a SecurityGroupRule
            lambda rs: (
                _add(_db_rule("half-a", cidrIpv4="0.0.0.0/1"))(rs),
                _add(
                    res(
                        SG_RULE,
                        "half-b",
                        {
                            "type": "ingress",
                            "securityGroupId": "sg-2",
                            "fromPort": 5432,
                            "toPort": 5432,
                            "protocol": "tcp",
                            "cidrBlocks": ["128.0.0.0/1"],
                        },
                        deps={"securityGroupId": [happy()[1]]},
                    )
                )(rs),
            ),
            "Ingress to group 'db' on tcp 5432: 0.0.0.0/1, 128.0.0.0/1 together "
            f"reach 100% of the public IPv4 internet; {ONLY_443}",
        ),
        (
            lambda rs: (
                _add(_db_rule("v6-a", cidrIpv6="::/1"))(rs),
                _add(_db_rule("v6-b", cidrIpv6="8000::/1"))(rs),
            ),
            # ::/1 holds all of global unicast (2000::/3) by itself
            "Ingress to group 'db' on tcp 5432: ::/1 reaches 100% of the public IPv6 internet; "
            f"{ONLY_443}",
        ),
        (
            lambda rs: [
                _add(_db_rule(f"slash15-{i}", cidrIpv4=f"{i}.0.0.0/15"))(rs)
                for i in PUBLIC_FIRST_OCTETS
            ],
            "Ingress to group 'db' on tcp 5432: 1.0.0.0/15, 2.0.0.0/15, 3.0.0.0/15, 4.0.0.0/15, "
            "5.0.0.0/15, 6.0.0.0/15 and 193 more together reach 0.78% of the public IPv4 "
            f"internet; {ONLY_443}",
        ),
        (
            _add(_db_rule("host-bits", cidrIpv4="1.2.3.4/0")),
            "Ingress to group 'db' on tcp 5432: 1.2.3.4/0 reaches 100% of the public IPv4 "
            f"internet; {ONLY_443}",
        ),
    ],
    ids=[
        "halves-inline",
        "halves-split-across-rule-shapes",
        "ipv6-halves",
        "a-slash15-in-every-public-slash8",
        "host-bits",
    ],
)
def test_open_cidrs_spelled_as_narrower_ranges(change: Any, message: str) -> None:
    rs = happy()
    change(rs)
    assert messages(INGRESS_POLICY, rs) == [message]


def test_narrow_public_ranges_and_private_space_are_not_the_internet() -> None:
    rs = happy()
    _add(_db_rule("partner", cidrIpv4="4.0.0.0/9"))(rs)
    _add(_db_rule("private", cidrIpv4="10.0.0.0/8"))(rs)
    _add(_db_rule("cgnat", cidrIpv4="100.64.0.0/10"))(rs)
    _add(_db_rule("v6-site", cidrIpv6="2001:db8::/32"))(rs)
    assert messages(INGRESS_POLICY, rs) == []


def test_many_narrow_ranges_below_a_slash8_together_are_not_the_internet() -> None:
    rs = happy()
    # a /16 in every public /8: 0.39% of the internet, less than one /8
    for i in PUBLIC_FIRST_OCTETS:
        _add(_db_rule(f"slash16-{i}", cidrIpv4=f"{i}.0.0.0/16"))(rs)
    assert messages(INGRESS_POLICY, rs) == []


def test_load_balancer_tag_does_not_exempt_a_group() -> None:
    rs = [res(SG, "web", {"name": "web", "tags": {"role": "load-balancer"}, "ingress": [https()]})]
    assert messages(INGRESS_POLICY, rs) == [
        "Ingress to group 'web' on tcp 443: 0.0.0.0/0 reaches 100% of the public IPv4 internet; "
        + ONLY_443
    ]


def test_description_does_not_make_a_load_balancer() -> None:
    rs = [res(SG, "web", {"description": "load balancer", "ingress": [https()]})]
    assert len(messages(INGRESS_POLICY, rs)) == 1


def test_load_balancer_group_shared_with_a_database_loses_the_exemption() -> None:
    rs = happy()
    lb_sg = rs[0]
    rs.append(
        res(
            RDS,
            "pg",
            {"vpcSecurityGroupIds": ["sg-1"], "port": 443},
            deps={"vpcSecurityGroupIds": [lb_sg]},
        )
    )
    assert len(messages(INGRESS_POLICY, rs)) == 1


def test_prefix_lists_are_expanded_or_refused() -> None:
    pl = res(PREFIX_LIST, "everyone", {"entries": [{"cidr": "0.0.0.0/1"}, {"cidr": "128.0.0.0/1"}]})
    in_plan = _db_rule("from-list", prefixListId="pl-1")
    in_plan["propertyDependencies"]["prefixListId"] = [pl["urn"]]
    in_plan["dependencies"].append(pl["urn"])
    assert messages(INGRESS_POLICY, [*happy(), pl, in_plan]) == [
        "Ingress to group 'db' on tcp 5432: 0.0.0.0/1, 128.0.0.0/1 together "
        f"reach 100% of the public IPv4 internet; {ONLY_443}"
    ]
    outside = _db_rule("from-outside", prefixListId="pl-0123")
    assert messages(INGRESS_POLICY, [*happy(), outside]) == [
        "A ingress rule of group 'db' names prefix list pl-0123 that the pack cannot see: it "
        "cannot be checked."
    ]


def test_unreadable_ranges_are_violations() -> None:
    rs = [*happy(), _db_rule("secret", cidrIpv4="[secret]")]
    assert messages(INGRESS_POLICY, rs) == [
        unseen("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule 'secret' .cidrIpv4")
    ]


def test_rule_of_unknown_direction_is_judged_as_ingress() -> None:
    rule = res(
        SG_RULE,
        "odd",
        {
            "type": "sideways",
            "securityGroupId": "sg-9",
            "protocol": "-1",
            "fromPort": 0,
            "toPort": 0,
            "cidrBlocks": ["0.0.0.0/0"],
        },
    )
    found = messages(INGRESS_POLICY, [rule])
    assert len(found) == 2 and "direction (type 'sideways')" in found[0]


def egress_happy() -> list[dict[str, Any]]:
    nodes = res(
        SG,
        "nodes",
        {
            "name": "nodes",
            "egress": [
                https(),
                {"fromPort": 53, "toPort": 53, "protocol": "udp", "cidrBlocks": ["10.0.0.0/16"]},
            ],
        },
    )
    return [
        nodes,
        res(SG, "db", {"name": "db"}),  # no egress at all: pulumi-aws removes AWS's default
        res(
            EGRESS,
            "nodes-v6-https",
            {
                "securityGroupId": "sg-3",
                "cidrIpv6": "::/0",
                "fromPort": 443,
                "toPort": 443,
                "ipProtocol": "tcp",
            },
            deps={"securityGroupId": [nodes]},
        ),
    ]


def test_security_group_no_public_egress_passes() -> None:
    assert messages(EGRESS_POLICY, egress_happy()) == []


ONLY_HTTPS_OUT = "only tcp 443 (HTTPS to AWS APIs and registries) may go to the internet."


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _set(
                "db",
                egress=[
                    {"fromPort": 0, "toPort": 0, "protocol": "-1", "cidrBlocks": ["0.0.0.0/0"]}
                ],
            ),
            f"Egress from group 'db' on all traffic: 0.0.0.0/0 reaches 100% of the public IPv4 "
            f"internet; {ONLY_HTTPS_OUT}",
        ),
        (
            _set("nodes-v6-https", ipProtocol="-1", fromPort=None, toPort=None),
            "Egress from group 'nodes' on all traffic: ::/0 reaches 100% of the public IPv6 "
            f"internet; {ONLY_HTTPS_OUT}",
        ),
        (
            _add(
                res(
                    SG_RULE,
                    "smtp",
                    {
                        "type": "egress",
                        "securityGroupId": "sg-3",
                        "fromPort": 25,
                        "toPort": 25,
                        "protocol": "tcp",
                        "cidrBlocks": ["0.0.0.0/1", "128.0.0.0/1"],
                    },
                    deps={"securityGroupId": [egress_happy()[0]]},
                )
            ),
            "Egress from group 'nodes' on tcp 25: 0.0.0.0/1, 128.0.0.0/1 together reach 100% of "
            f"the public IPv4 internet; {ONLY_HTTPS_OUT}",
        ),
    ],
    ids=["all-traffic-inline", "all-traffic-ipv6-standalone", "smtp-halves"],
)
def test_security_group_egress_to_everything(change: Any, message: str) -> None:
    rs = egress_happy()
    change(rs)
    assert messages(EGRESS_POLICY, rs) == [message]


VPC = "aws:ec2/vpc:Vpc"
FLOW = "aws:ec2/flowLog:FlowLog"


def test_vpc_flow_logs_passes() -> None:
    vpc = res(VPC, "vpc", {"cidrBlock": "10.0.0.0/16"})
    flow = res(FLOW, "flow", {"vpcId": "vpc-1", "trafficType": "ALL"}, deps={"vpcId": [vpc]})
    assert messages("vpc-flow-logs", [vpc, flow]) == []


def test_vpc_flow_logs_fails() -> None:
    assert messages("vpc-flow-logs", [res(VPC, "vpc", {"cidrBlock": "10.0.0.0/16"})]) == [
        "VPC 'vpc' has no flow log."
    ]


DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"


def test_default_security_group_closed_passes() -> None:
    assert messages("default-security-group-closed", [res(DEFAULT_SG, "d", {"vpcId": "v"})]) == []


def test_default_security_group_closed_fails() -> None:
    rs = [
        res(
            DEFAULT_SG,
            "d",
            {
                "vpcId": "v",
                "egress": [
                    {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}
                ],
            },
        )
    ]
    assert messages("default-security-group-closed", rs) == [
        "The default security group has egress rules; it must allow nothing."
    ]


# ---- every namespace isolates its pods for ingress

NAMESPACE = "kubernetes:core/v1:Namespace"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
NS_POLICY = "k8s-namespace-network-policy"


def namespace(name: str) -> dict[str, Any]:
    return res(NAMESPACE, f"{name}-ns", {"metadata": {"name": name}})


def netpol(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return res(NETPOL, f"{ns}-{name}", {"metadata": {"name": name, "namespace": ns}, "spec": spec})


DENY_INGRESS = {"podSelector": {}, "policyTypes": ["Ingress"]}


def test_namespace_network_policy_passes() -> None:
    rs = [
        namespace("team-a"),
        netpol("team-a", "default-deny", DENY_INGRESS),
        namespace("team-b"),
        netpol("team-b", "deny-all", {"podSelector": {}}),
    ]
    assert messages(NS_POLICY, rs) == []


@pytest.mark.parametrize(
    ("policies", "why"),
    [
        ([], "no policy"),
        (
            [netpol("team-a", "egress-only", {"podSelector": {}, "policyTypes": ["Egress"]})],
            "egress only",
        ),
        (
            [
                netpol(
                    "team-a",
                    "some-pods",
                    {"podSelector": {"matchLabels": {"app": "x"}}, "policyTypes": ["Ingress"]},
                )
            ],
            "some pods",
        ),
        ([netpol("team-b", "default-deny", DENY_INGRESS)], "another namespace's policy"),
    ],
    ids=["none", "egress-only", "some-pods", "other-namespace"],
)
def test_namespace_without_a_network_policy(policies: list[Any], why: str) -> None:
    assert messages(NS_POLICY, [namespace("team-a"), *policies]) == [
        "Namespace 'team-a' has no NetworkPolicy selecting every pod for ingress (podSelector: "
        "{}, policyTypes: [Ingress]): any pod in the cluster can reach its pods."
    ], why


@pytest.mark.parametrize(
    "rule",
    [
        {},
        {"from": []},
        {"from": [{"namespaceSelector": {}}]},
        {"from": [{"namespaceSelector": {}, "podSelector": {}}]},
        {"from": [{"ipBlock": {"cidr": "0.0.0.0/1"}}, {"ipBlock": {"cidr": "128.0.0.0/1"}}]},
    ],
    ids=["empty-rule", "empty-from", "every-namespace", "every-pod-everywhere", "ip-halves"],
)
def test_namespace_policy_that_allows_everything_is_no_isolation(rule: dict[str, Any]) -> None:
    rs = [
        namespace("team-a"),
        netpol("team-a", "default-deny", DENY_INGRESS),
        netpol("team-a", "allow-all", {"podSelector": {}, "ingress": [rule]}),
    ]
    assert messages(NS_POLICY, rs) == [
        "NetworkPolicy 'team-a/allow-all' admits any source on any port: the pods it selects "
        "are not isolated."
    ]


def test_namespace_policy_allowing_one_port_from_anywhere_is_explicit() -> None:
    rs = [
        namespace("team-a"),
        netpol("team-a", "default-deny", DENY_INGRESS),
        netpol(
            "team-a",
            "webhook",
            {"podSelector": {}, "ingress": [{"ports": [{"protocol": "TCP", "port": 9443}]}]},
        ),
    ]
    assert messages(NS_POLICY, rs) == []


def test_namespaces_in_config_groups_need_policies_too() -> None:
    group = res(
        "kubernetes:yaml/v2:ConfigGroup",
        "extra",
        {"yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: shadow}\n"},
    )
    assert messages(NS_POLICY, [group]) == [
        "ConfigGroup 'extra' object Namespace/shadow: Namespace 'shadow' has no NetworkPolicy "
        "selecting every pod for ingress (podSelector: {}, policyTypes: [Ingress]): any pod in "
        "the cluster can reach its pods."
    ]


def test_namespace_with_hidden_name_is_a_violation() -> None:
    ns = res(NAMESPACE, "x", {"metadata": {"name": "[unknown]"}})
    assert messages(NS_POLICY, [ns]) == [
        "Namespace name cannot be seen ('[unknown]'): its NetworkPolicies cannot be matched."
    ]


# ---- internet-facing Services and Ingresses lead to something that authenticates

SERVICE = "kubernetes:core/v1:Service"
INGRESS_K8S = "kubernetes:networking.k8s.io/v1:Ingress"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
PUBLIC = "k8s-public-endpoint-authenticated"


def deployment(app: str, container: dict[str, Any], ns: str = "mlflow") -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": app}
    return res(
        DEPLOYMENT,
        f"{ns}-{app}",
        {
            "metadata": {"name": app, "namespace": ns},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        },
    )


def service(name: str, app: str, ns: str = "mlflow", **spec: Any) -> dict[str, Any]:
    annotations = spec.pop("annotations", {})
    return res(
        SERVICE,
        f"{ns}-{name}-svc",
        {
            "metadata": {"name": name, "namespace": ns, "annotations": annotations},
            "spec": {"selector": {"app.kubernetes.io/name": app}, "ports": [{"port": 80}], **spec},
        },
    )


def ingress(name: str, backend: str, ns: str = "mlflow", **annotations: str) -> dict[str, Any]:
    return res(
        INGRESS_K8S,
        f"{ns}-{name}-ing",
        {
            "metadata": {"name": name, "namespace": ns, "annotations": annotations},
            "spec": {
                "rules": [
                    {
                        "host": "mlflow.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {"name": backend, "port": {"number": 80}}
                                    },
                                }
                            ]
                        },
                    }
                ]
            },
        },
    )


MLFLOW_NO_AUTH = {
    "name": "mlflow",
    "image": "ghcr.io/mlflow/mlflow:v3.1.0",
    "args": ["mlflow", "server", "--host", "0.0.0.0"],
}
MLFLOW_AUTH = {**MLFLOW_NO_AUTH, "args": ["mlflow", "server", "--app-name", "basic-auth"]}
PROXY = {
    "name": "oauth2-proxy",
    "image": "quay.io/oauth2-proxy/oauth2-proxy:v7.12.0",
    "args": ["--provider=oidc", "--upstream=http://mlflow"],
}


def test_public_endpoints_that_authenticate_pass() -> None:
    rs = [
        deployment("mlflow", MLFLOW_NO_AUTH),
        service("mlflow", "mlflow"),
        deployment("oauth2-proxy", PROXY),
        service("oauth2-proxy", "oauth2-proxy"),
        ingress("mlflow", "oauth2-proxy"),
    ]
    assert messages(PUBLIC, rs) == []
    basic = [deployment("mlflow", MLFLOW_AUTH), service("mlflow", "mlflow", type="LoadBalancer")]
    assert messages(PUBLIC, basic) == []
    internal = [
        deployment("mlflow", MLFLOW_NO_AUTH),
        service(
            "mlflow",
            "mlflow",
            type="LoadBalancer",
            annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"},
        ),
    ]
    assert messages(PUBLIC, internal) == []
    office = [
        deployment("mlflow", MLFLOW_NO_AUTH),
        service("mlflow", "mlflow", type="LoadBalancer", loadBalancerSourceRanges=["81.2.69.0/24"]),
    ]
    assert messages(PUBLIC, office) == []
    alb_oidc = [
        deployment("mlflow", MLFLOW_NO_AUTH),
        service("mlflow", "mlflow"),
        ingress("mlflow", "mlflow", **{"alb.ingress.kubernetes.io/auth-type": "oidc"}),
    ]
    assert messages(PUBLIC, alb_oidc) == []
    legacy_internal = [
        deployment("mlflow", MLFLOW_NO_AUTH),
        service(
            "mlflow",
            "mlflow",
            type="LoadBalancer",
            annotations={"service.beta.kubernetes.io/aws-load-balancer-internal": "true"},
        ),
    ]
    assert messages(PUBLIC, legacy_internal) == []
    signing_in = {
        "alb.ingress.kubernetes.io/auth-type": "cognito",
        "alb.ingress.kubernetes.io/auth-on-unauthenticated-request": "authenticate",
    }
    alb_cognito = [
        deployment("mlflow", MLFLOW_NO_AUTH),
        service("mlflow", "mlflow"),
        ingress("mlflow", "mlflow", **signing_in),
    ]
    assert messages(PUBLIC, alb_cognito) == []


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        (
            [
                deployment("mlflow", MLFLOW_NO_AUTH),
                service("mlflow", "mlflow", type="LoadBalancer"),
            ],
            "Service 'mlflow/mlflow' (type LoadBalancer, not internal) is reachable from the "
            "internet, but Deployment 'mlflow' behind Service 'mlflow' does not authenticate",
        ),
        (
            [
                deployment("mlflow", MLFLOW_NO_AUTH),
                service(
                    "mlflow",
                    "mlflow",
                    type="LoadBalancer",
                    loadBalancerSourceRanges=["0.0.0.0/1", "128.0.0.0/1"],
                ),
            ],
            "Service 'mlflow/mlflow' (type LoadBalancer, not internal, source ranges 0.0.0.0/1, "
            "128.0.0.0/1) is reachable from the internet, but Deployment 'mlflow' behind Service "
            "'mlflow' does not authenticate",
        ),
        (
            [
                deployment("mlflow", MLFLOW_NO_AUTH),
                service("mlflow", "mlflow"),
                ingress(
                    "mlflow",
                    "mlflow",
                    **{
                        "mlops.platform/auth": "oidc",
                        "alb.ingress.kubernetes.io/scheme": "internet-facing",
                    },
                ),
            ],
            "Ingress 'mlflow/mlflow' (an Ingress not marked internal) is reachable from the "
            "internet, but Deployment 'mlflow' behind Service 'mlflow' does not authenticate",
        ),
        (
            [ingress("mlflow", "ghost")],
            "Ingress 'mlflow/mlflow' (an Ingress not marked internal) is reachable from the "
            "internet, but its backend Service 'ghost' is not in the plan",
        ),
        (
            [
                deployment("app", {"name": "app", "image": "acme/app:1.0.0"}, ns="team-a"),
                service("app", "app", ns="team-a", type="LoadBalancer"),
            ],
            "Service 'team-a/app' (type LoadBalancer, not internal) is reachable from the "
            "internet, but Deployment 'app' behind Service 'app' does not authenticate",
        ),
        (
            [
                deployment("mlflow", MLFLOW_NO_AUTH),
                service("mlflow", "mlflow", externalIPs=["81.2.69.10"]),
            ],
            "Service 'mlflow/mlflow' (externalIPs 81.2.69.10) is reachable from the internet, "
            "but Deployment 'mlflow' behind Service 'mlflow' does not authenticate",
        ),
        (
            [
                deployment("mlflow", MLFLOW_NO_AUTH),
                service("mlflow", "mlflow"),
                res(
                    "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
                    "route",
                    {
                        "metadata": {"name": "mlflow", "namespace": "mlflow"},
                        "spec": {
                            "parentRefs": [{"name": "public"}],
                            "rules": [{"backendRefs": [{"name": "mlflow", "port": 80}]}],
                        },
                    },
                ),
            ],
            "HTTPRoute 'mlflow/mlflow' (a Gateway API route) is reachable from the internet, but "
            "Deployment 'mlflow' behind Service 'mlflow' does not authenticate",
        ),
        (
            [
                deployment("oauth2-proxy", {**PROXY, "image": "docker.io/evil/oauth2-proxy:7.0.0"}),
                service("oauth2-proxy", "oauth2-proxy"),
                ingress("mlflow", "oauth2-proxy"),
            ],
            "Ingress 'mlflow/mlflow' (an Ingress not marked internal) is reachable from the "
            "internet, but Deployment 'oauth2-proxy' behind Service 'oauth2-proxy' does not "
            "authenticate",
        ),
        (
            [
                deployment(
                    "oauth2-proxy", {**PROXY, "args": [*PROXY["args"], "--skip-auth-regex=.*"]}
                ),
                service("oauth2-proxy", "oauth2-proxy"),
                ingress("mlflow", "oauth2-proxy"),
            ],
            "Ingress 'mlflow/mlflow' (an Ingress not marked internal) is reachable from the "
            "internet, but Deployment 'oauth2-proxy' behind Service 'oauth2-proxy' does not "
            "authenticate",
        ),
        (
            [
                deployment("mlflow", MLFLOW_NO_AUTH),
                service(
                    "mlflow",
                    "mlflow",
                    type="LoadBalancer",
                    annotations={
                        "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
                        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
                    },
                ),
            ],
            "Service 'mlflow/mlflow' (type LoadBalancer, not internal) is reachable from the "
            "internet, but Deployment 'mlflow' behind Service 'mlflow' does not authenticate",
        ),
        (
            [
                deployment("mlflow", MLFLOW_NO_AUTH),
                service("mlflow", "mlflow"),
                ingress(
                    "mlflow",
                    "mlflow",
                    **{
                        "alb.ingress.kubernetes.io/auth-type": "oidc",
                        "alb.ingress.kubernetes.io/auth-on-unauthenticated-request": "allow",
                    },
                ),
            ],
            "Ingress 'mlflow/mlflow' (an Ingress not marked internal) is reachable from the "
            "internet, but Deployment 'mlflow' behind Service 'mlflow' does not authenticate",
        ),
    ],
    ids=[
        "lb-in-front-of-mlflow",
        "lb-source-ranges-halves",
        "self-declared-auth-annotation",
        "backend-outside-plan",
        "any-public-lb",
        "external-ips",
        "gateway-api-route",
        "look-alike-proxy-image",
        "proxy-skipping-auth",
        "legacy-internal-beside-internet-facing-scheme",
        "alb-oidc-letting-unauthenticated-through",
    ],
)
def test_public_endpoint_without_auth(resources: list[Any], message: str) -> None:
    assert messages(PUBLIC, resources) == [
        message + " (put oauth2-proxy or the service's own auth in front, or list it in "
        "public_services)."
    ]


# an app behind an oauth2-proxy sidecar, in one pod: which container a Service port
# reaches decides whether the request is authenticated
APP = {
    "name": "app",
    "image": "ghcr.io/acme/app:1.4.2",
    "ports": [{"name": "app", "containerPort": 8080}],
}
SIDECAR = {
    **PROXY,
    "args": ["--provider=oidc", "--upstream=http://127.0.0.1:8080", "--http-address=0.0.0.0:4180"],
    "ports": [{"name": "auth", "containerPort": 4180}],
}


def sidecar_pod(*extra: dict[str, Any]) -> dict[str, Any]:
    pod = deployment("app", APP, ns="team-a")
    pod["inputs"]["spec"]["template"]["spec"]["containers"] = [APP, SIDECAR, *extra]
    return pod


def lb(target: Any) -> dict[str, Any]:
    return service(
        "app", "app", ns="team-a", type="LoadBalancer", ports=[{"port": 443, "targetPort": target}]
    )


def test_a_service_port_aimed_past_the_auth_sidecar_reaches_the_app_unauthenticated() -> None:
    assert messages(PUBLIC, [sidecar_pod(), lb("auth")]) == []
    assert messages(PUBLIC, [sidecar_pod(), lb(4180)]) == []
    suffix = (
        " (put oauth2-proxy or the service's own auth in front, or list it in public_services)."
    )
    head = (
        "Service 'team-a/app' (type LoadBalancer, not internal) is reachable from the "
        "internet, but "
    )
    assert messages(PUBLIC, [sidecar_pod(), lb("app")]) == [
        head + "Service 'app' port app reaches a container of Deployment 'app' that does not "
        "authenticate, past its auth proxy" + suffix
    ]
    assert messages(PUBLIC, [sidecar_pod(), lb(8080)]) == [
        head + "Service 'app' port 8080 reaches a container of Deployment 'app' that does not "
        "authenticate, past its auth proxy" + suffix
    ]
    assert messages(PUBLIC, [sidecar_pod(), lb(9000)]) == [
        head + "which container of Deployment 'app' receives Service 'app' port 9000 cannot be "
        "seen (declare it in the container's ports)" + suffix
    ]
    # through an Ingress, the port it names decides
    two_ports = service(
        "app",
        "app",
        ns="team-a",
        ports=[
            {"name": "web", "port": 80, "targetPort": "auth"},
            {"name": "raw", "port": 81, "targetPort": "app"},
        ],
    )
    route = ingress("app", "app", ns="team-a")
    route["inputs"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] = {
        "name": "web"
    }
    assert messages(PUBLIC, [sidecar_pod(), two_ports, route]) == []
    route["inputs"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] = {
        "number": 81
    }
    assert messages(PUBLIC, [sidecar_pod(), two_ports, route]) == [
        "Ingress 'team-a/app' (an Ingress not marked internal) is reachable from the internet, "
        "but Service 'app' port app reaches a container of Deployment 'app' that does not "
        "authenticate, past its auth proxy" + suffix
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"args": [*SIDECAR["args"], "--trusted-ip=0.0.0.0/0"]},
        {"env": [{"name": "OAUTH2_PROXY_TRUSTED_IPS", "value": "0.0.0.0/0"}]},
        {"args": [*SIDECAR["args"], "--config=/etc/oauth2-proxy/oauth2-proxy.cfg"]},
        {"envFrom": [{"configMapRef": {"name": "proxy-settings"}}]},
        {
            "env": [
                {
                    "name": "OAUTH2_PROXY_SKIP_AUTH_ROUTES",
                    "valueFrom": {"configMapKeyRef": {"name": "x", "key": "y"}},
                }
            ]
        },
    ],
    ids=["trusted-ip-flag", "trusted-ips-env", "config-file", "env-from", "skip-from-configmap"],
)
def test_a_proxy_letting_addresses_through_or_reading_unseen_settings_does_not_authenticate(
    change: dict[str, Any],
) -> None:
    pod = deployment("app", {**SIDECAR, **change}, ns="team-a")
    assert messages(PUBLIC, [pod, lb("auth")]) == [
        "Service 'team-a/app' (type LoadBalancer, not internal) is reachable from the internet, "
        "but Deployment 'app' behind Service 'app' does not authenticate (put oauth2-proxy or "
        "the service's own auth in front, or list it in public_services)."
    ]


def test_deliberately_public_services_are_configured_not_self_declared() -> None:
    rs = [
        deployment("app", {"name": "app", "image": "acme/app:1.0.0"}, ns="team-a"),
        service("app", "app", ns="team-a", type="LoadBalancer"),
    ]
    assert messages(PUBLIC, rs, {"public_services": ["team-a/app"]}) == []
