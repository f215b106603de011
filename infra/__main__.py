"""The stack program: the foundation, then the services, each a slice of its own.

Each slice reads its section of the validated config (environments/Pulumi.<stack>.yaml)
and what earlier slices made, from the one `Platform`; the order below is the order of
their dependencies. Adding a service: docs/architecture.md.
"""

import sys
from pathlib import Path

# `pulumi up` runs this file with infra/ on sys.path; the project root must be
# importable too when the project is not pip-installed in .venv.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra.foundation.cert_manager import slice as cert_manager
from infra.foundation.ci import slice as ci
from infra.foundation.cluster import slice as cluster
from infra.foundation.deployer import slice as deployer
from infra.foundation.network import slice as network
from infra.foundation.registry import slice as registry
from infra.platform import Platform
from infra.services.artifact_store import slice as artifact_store
from infra.services.feast import slice as feast
from infra.services.kfp import slice as kfp
from infra.services.kserve import slice as kserve
from infra.services.mlflow import slice as mlflow
from infra.services.monitoring import slice as monitoring
from infra.services.tenancy import slice as tenancy

FOUNDATION = (ci, network, cluster, deployer, registry, cert_manager)
SERVICES = (artifact_store, mlflow, feast, monitoring, kfp, tenancy, kserve)

platform = Platform.from_stack()
for part in (*FOUNDATION, *SERVICES):
    part.deploy(platform)
platform.export()
