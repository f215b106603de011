"""The project's one image rule, on the references each branch of it decides."""

from __future__ import annotations

import pytest

from policies.rules.images import image_problem

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev"
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    "image",
    [
        "docker.io/alpine:3.23",
        "ghcr.io/mlflow/mlflow:v3.17.2-full",
        "quay.io/argoproj/argoexec:v4.0.5",
        "gcr.io/tfx-oss-public/ml_metadata_store_server:1.14.0",
        "ghcr.io/acme/app@sha256:" + "a" * 64,
        f"{ECR}/pipeline-components:{SHA}",
        f"{ECR}/pipeline-components@sha256:" + "b" * 64,
        "localhost:5000/acme/app:2.0.1",
    ],
)
def test_pinned_images_pass(image: str) -> None:
    assert image_problem(image) is None


@pytest.mark.parametrize(
    ("image", "why"),
    [
        ("ghcr.io/containerd/busybox", "has no tag"),
        ("localhost:5000/acme/app", "has no tag"),
        ("busybox:latest", "uses the 'latest' tag"),
        ("busybox:1", "floating tag '1'"),
        ("nginx:stable", "floating tag 'stable'"),
        ("ghcr.io/acme/app:main", "floating tag 'main'"),
        ("ghcr.io/acme/app:release", "floating tag 'release'"),
        ("ghcr.io/acme/app:v1", "floating tag 'v1'"),
        ("ghcr.io/acme/app:LATEST", "floating tag 'LATEST'"),
        ("ghcr.io/acme/app@sha256:", "malformed digest"),
        ("ghcr.io/acme/app:1.2.3@sha256:", "malformed digest"),
        ("ghcr.io/acme/app@sha256:" + "A" * 64, "malformed digest"),
        ("ghcr.io/acme/app@sha512:" + "a" * 128, "malformed digest"),
        ("ghcr.io/acme/app@sha256:abc", "malformed digest"),
        (f"{ECR}/pipeline-components:0.1.0", "not a tag the image workflow pushes"),
        (f"{ECR}/pipeline-components:{SHA[:7]}", "not a tag the image workflow pushes"),
        (f"{ECR}/pipeline-components", "not a tag the image workflow pushes"),
        ("", "has no image"),
        (None, "has no image"),
        ("[unknown]", "cannot see"),
    ],
)
def test_floating_or_unpushed_images_are_refused(image: object, why: str) -> None:
    problem = image_problem(image)
    assert problem is not None and why in problem
