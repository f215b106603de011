"""Monitoring rules: scrape targets that exist, declare the port, and answer."""

from __future__ import annotations

from typing import Any

import pytest
from harness import find, messages, mutated, res, unseen

POLICY = "k8s-scrape-target-answers"
SM = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
PM = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
APP = {"app.kubernetes.io/name": "mlflow"}
SERVER_ARGS = [
    "mlflow",
    "server",
    "--host",
    "0.0.0.0",
    "--port",
    "5000",
    "--allowed-hosts",
    "mlflow.mlflow.svc.cluster.local,mlflow",
    "--expose-prometheus",
    "/tmp/prometheus",
    "--app-name",
    "basic-auth",
]


def mlflow_deployment() -> dict[str, Any]:
    return res(
        "kubernetes:apps/v1:Deployment",
        "mlflow",
        {
            "metadata": {"name": "mlflow", "namespace": "mlflow", "labels": APP},
            "spec": {
                "selector": {"matchLabels": APP},
                "template": {
                    "metadata": {"labels": APP},
                    "spec": {
                        "containers": [
                            {
                                "name": "mlflow",
                                "image": "ghcr.io/mlflow/mlflow:v3.17.2-full",
                                "args": list(SERVER_ARGS),
                                "ports": [{"name": "http", "containerPort": 5000}],
                            },
                            {
                                "name": "metrics",
                                "image": "ghcr.io/mlflow/mlflow:v3.17.2-full",
                                "command": ["python", "-c", "serve the multiprocess directory"],
                                "ports": [{"name": "metrics", "containerPort": 9102}],
                            },
                        ]
                    },
                },
            },
        },
    )


def stack() -> list[dict[str, Any]]:
    """MLflow scraped through its metrics sidecar, MLServer predictors through 'metrics'."""
    return [
        mlflow_deployment(),
        res(
            "kubernetes:core/v1:Service",
            "mlflow",
            {
                "metadata": {"name": "mlflow", "namespace": "mlflow", "labels": APP},
                "spec": {
                    "selector": APP,
                    "ports": [
                        {"name": "http", "port": 80, "targetPort": "http"},
                        {"name": "metrics", "port": 9102, "targetPort": "metrics"},
                    ],
                },
            },
        ),
        res(
            SM,
            "mlflow",
            {
                "metadata": {"name": "mlflow", "namespace": "monitoring"},
                "spec": {
                    "namespaceSelector": {"matchNames": ["mlflow"]},
                    "selector": {"matchLabels": APP},
                    "endpoints": [{"port": "metrics", "path": "/metrics"}],
                },
            },
        ),
        res(
            "kubernetes:serving.kserve.io/v1alpha1:ClusterServingRuntime",
            "kserve-mlserver",
            {
                "metadata": {"name": "kserve-mlserver"},
                "spec": {
                    "containers": [
                        {
                            "name": "kserve-container",
                            "image": "docker.io/seldonio/mlserver:1.7.1",
                            "ports": [
                                {"name": "http1", "containerPort": 8080},
                                {"name": "metrics", "containerPort": 8082},
                            ],
                        }
                    ]
                },
            },
        ),
        res(
            PM,
            "kserve-predictors",
            {
                "metadata": {"name": "kserve-predictors", "namespace": "monitoring"},
                "spec": {
                    "namespaceSelector": {"any": True},
                    "selector": {
                        "matchExpressions": [
                            {"key": "serving.kserve.io/inferenceservice", "operator": "Exists"}
                        ]
                    },
                    "podMetricsEndpoints": [{"port": "metrics", "path": "/metrics"}],
                },
            },
        ),
    ]


def scrape_secret(username: Any) -> dict[str, Any]:
    return res(
        "kubernetes:core/v1:Secret",
        "scrape-mlflow",
        {
            "metadata": {"name": "scrape-mlflow", "namespace": "monitoring"},
            "stringData": {"username": username, "password": "[secret]"},
        },
    )


def via_http(resources: list[dict[str, Any]], user: Any = None) -> None:
    """The ServiceMonitor scrapes MLflow's own port (with ``user``'s credentials)."""
    endpoint: dict[str, Any] = {"port": "http", "path": "/metrics"}
    if user is not None:
        endpoint["basicAuth"] = {
            "username": {"name": "scrape-mlflow", "key": "username"},
            "password": {"name": "scrape-mlflow", "key": "password"},
        }
        resources.append(scrape_secret(user))
    find(resources, "ServiceMonitor")["inputs"]["spec"]["endpoints"] = [endpoint]


def server(resources: list[dict[str, Any]]) -> dict[str, Any]:
    spec = find(resources, "Deployment")["inputs"]["spec"]["template"]["spec"]
    return dict(spec["containers"][0])


SM_HTTP = (
    "ServiceMonitor 'monitoring/mlflow' endpoint 'http' scrapes Deployment "
    "'mlflow/mlflow' through Service 'mlflow/mlflow', but "
)
HOST_403 = (
    "MLflow's host check answers 403 to the Host header Prometheus sends ('<pod IP>:5000'"
    ", the target address): --allowed-hosts admits only "
    "mlflow.mlflow.svc.cluster.local, mlflow."
)


def test_scrape_targets_pass() -> None:
    assert messages(POLICY, stack()) == []


def test_a_monitor_of_nothing_the_plan_has_passes() -> None:
    assert messages(POLICY, stack()[:2]) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # the defect: MLServer's metrics port by a number no container declares
        (
            lambda r: (
                find(r, "PodMonitor")["inputs"]["spec"].update(
                    podMetricsEndpoints=[{"targetPort": 8082.0}]
                )
                or find(r, "ClusterServingRuntime")["inputs"]["spec"]["containers"][0].pop("ports")
            ),
            "PodMonitor 'monitoring/kserve-predictors' endpoint port '8082' is declared by none of "
            "the pods it selects (ClusterServingRuntime 'kserve-mlserver' (the predictors it will "
            "run): []): Prometheus has no target.",
        ),
        (
            lambda r: find(r, "PodMonitor")["inputs"]["spec"].update(
                selector={"matchLabels": {"team": "nope"}}
            ),
            "PodMonitor 'monitoring/kserve-predictors' selects no pod template of the plan "
            "(workload, or predictor of a KServe runtime): Prometheus has no target.",
        ),
        (
            lambda r: find(r, "ServiceMonitor")["inputs"]["spec"].update(
                namespaceSelector={"matchNames": ["feast"]}
            ),
            "ServiceMonitor 'monitoring/mlflow' selects no Service of the plan: Prometheus has no "
            "target.",
        ),
        (
            lambda r: find(r, "ServiceMonitor")["inputs"]["spec"]["endpoints"][0].update(
                port="web"
            ),
            "ServiceMonitor 'monitoring/mlflow' endpoint port 'web' is declared by none of the "
            "Services it selects ('mlflow/mlflow': ['http', 'metrics']): Prometheus has no target.",
        ),
        # the defects: MLflow's own port, with its host check and login
        (lambda r: via_http(r), f"{SM_HTTP}{HOST_403}"),
        (
            lambda r: via_http(r, "admin"),
            f"{SM_HTTP}it scrapes as MLflow's admin ('admin', Secret "
            "'monitoring/scrape-mlflow' key 'username'): Prometheus would hold the account "
            "that manages every user and permission.",
        ),
        (
            lambda r: via_http(r, "prometheus"),
            f"{SM_HTTP}MLflow answers 403 to user 'prometheus': with fail-closed authorization "
            "(MLFLOW_BASIC_AUTH_FAIL_CLOSED, the default since 3.16) no permission grants /metrics "
            "and only admins may read it.",
        ),
        # a username the plan hides could be the admin's
        (
            lambda r: via_http(r, "[secret]"),
            unseen("kubernetes:core/v1:Secret 'scrape-mlflow' .stringData.username"),
        ),
        (
            lambda r: (
                find(r, "Deployment")["inputs"]["spec"]["selector"].update(
                    matchLabels={"app": "other"}
                )
                or find(r, "Deployment")["inputs"]["spec"]["template"]["metadata"].update(
                    labels={"app": "other"}
                )
            ),
            "ServiceMonitor 'monitoring/mlflow' endpoint 'metrics': the pack cannot see the pods "
            "behind Service 'mlflow/mlflow' (no workload of the plan matches its selector), so it "
            "cannot tell whether they answer.",
        ),
    ],
)
def test_scrape_target_refused(change: Any, message: str) -> None:
    found = messages(POLICY, mutated(stack(), change))
    assert message in found, found


def test_the_auth_app_without_credentials_answers_401() -> None:
    found = messages(POLICY, mutated(stack(), via_http))
    assert sorted(found) == [
        f"{SM_HTTP}MLflow's auth app answers 401: the endpoint sends no basic-auth credentials.",
        f"{SM_HTTP}{HOST_403}",
    ]


def test_mlflow_port_passes_with_the_pod_ip_and_a_user_mlflow_lets_read() -> None:
    def change(r: list[dict[str, Any]]) -> None:
        via_http(r, "prometheus")
        c = server(r)
        c["args"][c["args"].index("--allowed-hosts") + 1] += ",$(POD_IP):5000"
        c["env"] = [
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "MLFLOW_BASIC_AUTH_FAIL_CLOSED", "value": "false"},
        ]
        find(r, "Deployment")["inputs"]["spec"]["template"]["spec"]["containers"][0] = c

    assert messages(POLICY, mutated(stack(), change)) == []


@pytest.mark.parametrize(
    ("hosts", "passes"),
    [
        ("*", True),
        ("10.*,172.*,192.168.*", True),  # every private pod address
        ("10.*", False),  # the pack does not know the VPC's range
        ("$(POD_IP)", False),  # the Host header carries the port
        ("$(NODE_IP):5000", False),  # a variable the container does not define
    ],
)
def test_the_host_check_by_its_allowed_hosts(hosts: str, passes: bool) -> None:
    def change(r: list[dict[str, Any]]) -> None:
        via_http(r)
        c = server(r)
        c["args"] = [a for a in c["args"] if a not in ("--app-name", "basic-auth")]
        c["args"][c["args"].index("--allowed-hosts") + 1] = hosts
        c["env"] = [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]
        find(r, "Deployment")["inputs"]["spec"]["template"]["spec"]["containers"][0] = c

    found = messages(POLICY, mutated(stack(), change))
    assert (found == []) is passes, found


def test_no_allowed_hosts_is_mlflows_default_which_admits_private_addresses() -> None:
    def change(r: list[dict[str, Any]]) -> None:
        via_http(r)
        c = server(r)
        i = c["args"].index("--allowed-hosts")
        c["args"] = [
            a for a in c["args"][:i] + c["args"][i + 2 :] if a not in ("--app-name", "basic-auth")
        ]
        find(r, "Deployment")["inputs"]["spec"]["template"]["spec"]["containers"][0] = c

    assert messages(POLICY, mutated(stack(), change)) == []


def test_an_inference_service_of_the_plan_is_a_pod_template() -> None:
    isvc = res(
        "kubernetes:serving.kserve.io/v1beta1:InferenceService",
        "fraud",
        {
            "metadata": {"name": "fraud", "namespace": "team-fraud"},
            "spec": {"predictor": {"model": {"runtime": "kserve-mlserver"}}},
        },
    )

    def change(r: list[dict[str, Any]]) -> None:
        r.remove(find(r, "ClusterServingRuntime"))
        r.append(isvc)
        find(r, "PodMonitor")["inputs"]["spec"]["selector"] = {
            "matchLabels": {"serving.kserve.io/inferenceservice": "fraud"}
        }

    # without its runtime in the plan, the predictor declares no port
    assert messages(POLICY, mutated(stack(), change)) == [
        "PodMonitor 'monitoring/kserve-predictors' endpoint port 'metrics' is declared by none "
        "of the pods it selects (InferenceService 'team-fraud/fraud' predictor: []): "
        "Prometheus has no target."
    ]
    assert messages(POLICY, [*stack(), isvc]) == []


def netpol(name: str, ingress: list[dict[str, Any]], selector: Any = None) -> dict[str, Any]:
    return res(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        name,
        {
            "metadata": {"name": name, "namespace": "mlflow"},
            "spec": {
                "podSelector": {} if selector is None else selector,
                "policyTypes": ["Ingress"],
                "ingress": ingress,
            },
        },
    )


MONITORING = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
TEAM = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "team-a"}}}


@pytest.mark.parametrize(
    "allow",
    [
        [
            netpol(
                "scrape",
                [{"from": [MONITORING], "ports": [{"protocol": "TCP", "port": 9102}]}],
                {"matchLabels": APP},
            )
        ],
        [netpol("scrape", [{"from": [MONITORING], "ports": [{"port": "metrics"}]}])],
        [netpol("scrape", [{"from": [MONITORING]}])],  # every port
        [
            netpol(
                "scrape",
                [
                    {
                        "from": [
                            {
                                **MONITORING,
                                "podSelector": {
                                    "matchLabels": {"app.kubernetes.io/name": "prometheus"}
                                },
                            }
                        ]
                    }
                ],
            )
        ],
    ],
)
def test_network_policies_that_let_prometheus_in(allow: list[dict[str, Any]]) -> None:
    assert messages(POLICY, [*stack(), netpol("deny", []), *allow]) == []
    # and nothing isolating the pods lets everyone in
    assert messages(POLICY, stack()) == []


@pytest.mark.parametrize(
    "policies",
    [
        # isolated, Prometheus admitted to the tracking API only
        [
            netpol("deny", [], {}),
            netpol(
                "mlflow",
                [{"from": [TEAM, MONITORING], "ports": [{"protocol": "TCP", "port": 5000}]}],
            ),
        ],
        # the scrape port, but for another namespace
        [netpol("deny", [], {}), netpol("scrape", [{"from": [TEAM], "ports": [{"port": 9102}]}])],
        # the namespace, but pods Prometheus is not
        [
            netpol("deny", [], {}),
            netpol(
                "scrape",
                [
                    {
                        "from": [
                            {
                                **MONITORING,
                                "podSelector": {
                                    "matchLabels": {"app.kubernetes.io/name": "grafana"}
                                },
                            }
                        ]
                    }
                ],
            ),
        ],
    ],
)
def test_network_policies_that_keep_prometheus_out(policies: list[dict[str, Any]]) -> None:
    names = ", ".join(f"'{p['name']}'" for p in policies)
    assert messages(POLICY, [*stack(), *policies]) == [
        "ServiceMonitor 'monitoring/mlflow' endpoint 'metrics' scrapes Deployment 'mlflow/mlflow' "
        f"through Service 'mlflow/mlflow', but no NetworkPolicy selecting its pods ({names}) "
        "admits namespace 'monitoring', where Prometheus runs, on port metrics: the scrape "
        "times out."
    ]
