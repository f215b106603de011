"""KServe: CRDs, controller, serving runtimes, and the configured models, each served in
its team's namespace under the team's serving account (read-only on its models)."""

from __future__ import annotations

from infra.platform import Platform
from infra.services.artifact_store.component import ArtifactStore
from infra.services.kserve.component import InferenceServiceSpec, KServe, KServeArgs


def deploy(p: Platform) -> None:
    cfg = p.config.components.kserve
    if not cfg.enabled:
        return
    artifacts = p.require("artifacts", ArtifactStore)
    tenants = p.require("tenants", dict)
    teams = {t.name: t for t in p.config.teams}
    kserve = KServe(
        "kserve",
        KServeArgs(
            config=cfg,
            domain=p.config.components.ingress.domain,
            inference_services=[
                InferenceServiceSpec(
                    name=m.name,
                    namespace=teams[m.team].namespace,
                    storage_uri=artifacts.uri(f"{teams[m.team].prefix}/{m.path}"),
                    model_name=m.model_name,
                    model_version=m.model_version,
                    min_replicas=m.min_replicas,
                    max_replicas=m.max_replicas,
                    service_account=teams[m.team].serving_account,
                )
                for m in cfg.models
            ],
            cert_manager=p.cert_manager.release if p.cert_manager else None,
            isvc_depends_on=[tenants[m.team] for m in cfg.models],
            monitoring_namespace=(
                p.config.components.monitoring.namespace
                if p.config.components.monitoring.enabled
                else None
            ),
        ),
        opts=p.k8s,
    )
    p.add("kserve", kserve)
