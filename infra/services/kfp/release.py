"""The Kubeflow Pipelines release the platform deploys, named once.

Since 2.16 the KFP project releases its backend and its SDKs together, and a backend older
than the SDK may not run what that SDK compiles (``kfp-kubernetes`` platform features are
staged between them). So one release is named here, and everything else follows it or is
checked against it (``mlops.checks.kfp_release``, run by every ``mlops plan``):

* the overlay's remote refs (``manifests/kustomization.yaml``: kustomize reads them there,
  so they are spelled out, and must equal this);
* the inventory of what those refs create (``manifests/inventory.yaml``: keyed by the same
  URLs, its KFP images tagged with this release);
* ``components.kfp.version`` (``KfpConfig``: defaults to this; the component refuses another);
* the SDK: ``kfp`` in ``pyproject.toml`` and ``pipelines/requirements.txt`` (the component
  image), the SDK the checked-in pipelines were compiled with, and the installed package,
  each in this release's major.minor.

Bumping KFP: change this, the refs in the overlay, the inventory (from that tag's sources),
then the SDK pins, and recompile the pipelines; the plan refuses any step left out.
"""

from __future__ import annotations

KFP_RELEASE = "2.17.0"


def major_minor(version: str) -> str:
    """``2.17.3`` -> ``2.17`` (what the backend/SDK pairing compares)."""
    parts = version.strip().split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        raise ValueError(f"{version!r} is not a <major>.<minor>[.<patch>] version")
    return f"{parts[0]}.{parts[1]}"
