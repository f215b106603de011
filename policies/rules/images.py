"""The project's one image rule: every image the platform runs is a pinned upstream tag or
digest, or exactly a tag the image workflow pushes.

Used by the pack (``k8s-image-pinned``, every native workload), by `mlops plan` (the images
upstream manifests and charts run, from their inventories) and by the config validators.
SDK-free, so it imports in every environment.

* A digest (``@sha256:`` and 64 hex digits) pins an image outright.
* An upstream tag pins it when it names a release: at least ``<major>.<minor>`` (``v1.19.1``,
  ``3.23``, ``2.17.0``). ``latest``, a missing tag, a branch-like tag (``main``, ``stable``)
  or a bare major (``busybox:1``) float: the image changes under the same reference.
* The platform's own images (``OWN_REPOSITORIES``, in any registry) carry exactly the tag
  .github/workflows/image.yml pushes: the full commit SHA (``PUSHED_TAG``). A version-like
  tag there names nothing that was ever pushed, and the pod never starts. `mlops plan`
  checks that the workflow still pushes these repositories with this tag.
"""

from __future__ import annotations

import re
from typing import Any

# the repositories the image workflow pushes to (the last part of the repository path)
OWN_REPOSITORIES = ("pipeline-components",)
# the tag it pushes: ${{ github.sha }}
PUSHED_TAG = re.compile(r"[0-9a-f]{40}")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
RELEASE_TAG = re.compile(r"v?\d+\.\d+([.\-+_][0-9A-Za-z.\-+_]*)?")


def split(image: str) -> tuple[str, str | None, str | None]:
    """(repository, tag, digest) of an image reference."""
    rest, _, digest = image.partition("@")
    last = rest.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = rest.rsplit(":", 1)
        return repo, tag, digest or None
    return rest, None, digest or None


def is_own(image: str) -> bool:
    return split(image)[0].rsplit("/", 1)[-1] in OWN_REPOSITORIES


def image_problem(image: Any) -> str | None:
    """Why an image reference is not pinned, or None when it is."""
    if not isinstance(image, str) or not image.strip():
        return "has no image"
    if image in ("[unknown]", "[secret]"):
        return f"has an image the plan cannot see ({image}): it cannot be checked"
    _, tag, digest = split(image)
    if digest is not None:
        if not DIGEST.fullmatch(digest):
            return f"image '{image}' has a malformed digest"
        return None
    if is_own(image):
        if tag is None or not PUSHED_TAG.fullmatch(tag):
            return (
                f"image '{image}' is the platform's own, but '{tag}' is not a tag the image "
                "workflow pushes (the full commit SHA)"
            )
        return None
    if tag is None:
        return f"image '{image}' has no tag"
    if tag == "latest":
        return f"image '{image}' uses the 'latest' tag"
    if not RELEASE_TAG.fullmatch(tag):
        return f"image '{image}' has the floating tag '{tag}' (pin a release or a digest)"
    return None
