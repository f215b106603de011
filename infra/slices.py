"""The order in which the stack program deploys its slices: the foundation, then the
services, each after what it reads from the `Platform`. Adding a service:
docs/architecture.md."""

from infra.foundation.cert_manager import slice as cert_manager
from infra.foundation.ci import slice as ci
from infra.foundation.cluster import slice as cluster
from infra.foundation.deployer import slice as deployer
from infra.foundation.network import slice as network
from infra.foundation.registry import slice as registry
from infra.services.artifact_store import slice as artifact_store
from infra.services.feast import slice as feast
from infra.services.kfp import slice as kfp
from infra.services.kserve import slice as kserve
from infra.services.mlflow import slice as mlflow
from infra.services.monitoring import slice as monitoring
from infra.services.tenancy import slice as tenancy

FOUNDATION = (ci, network, cluster, deployer, registry, cert_manager)
SERVICES = (artifact_store, mlflow, feast, monitoring, kfp, tenancy, kserve)
