"""A namespace's ingress isolation: deny by default, then named peers or named ports."""

from __future__ import annotations

import pytest

from infra.base.isolation import (
    SAME_NAMESPACE,
    Allow,
    Isolation,
    acme_solver,
    namespace_peer,
    scrape_from,
)


def test_default_deny_comes_first_then_each_allow() -> None:
    specs = Isolation(
        [
            Allow("same-namespace", peers=[SAME_NAMESPACE]),
            Allow("webhook", ports=[9443]),
            Allow("clients", peers=[namespace_peer("team-a")], ports=[6566], pods={"app": "x"}),
        ]
    ).specs()
    assert specs[0] == ("default-deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]})
    assert dict(specs[1:]) == {
        "allow-same-namespace": {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {}}]}],
        },
        "allow-webhook": {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [{"ports": [{"protocol": "TCP", "port": 9443}]}],
        },
        "allow-clients": {
            "podSelector": {"matchLabels": {"app": "x"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [namespace_peer("team-a")],
                    "ports": [{"protocol": "TCP", "port": 6566}],
                }
            ],
        },
    }


def test_an_allow_of_everything_is_refused() -> None:
    with pytest.raises(ValueError, match="would admit everything"):
        Allow("anything")


def test_optional_allows() -> None:
    assert scrape_from(None) == [] and acme_solver(None) == []
    (scrape,) = scrape_from("monitoring")
    assert scrape.peers == [namespace_peer("monitoring")] and not scrape.ports
    (solver,) = acme_solver("ml.example.com")
    assert solver.ports == [8089] and solver.pods == {"acme.cert-manager.io/http01-solver": "true"}
