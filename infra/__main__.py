"""The stack program: read the validated config, wire the components, export.

Everything environment-specific comes from environments/Pulumi.<stack>.yaml.
"""

import sys
from pathlib import Path

# `pulumi up` runs this file with infra/ on sys.path; the project root must be
# importable too when the project is not pip-installed in .venv.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi
import pulumi_aws as aws

from components.artifact_store import ArtifactStore, ArtifactStoreArgs
from infra.config import load_stack_config

cfg = load_stack_config()
env = pulumi.get_stack()
tags = {**cfg.tags, "environment": env, "managed-by": "pulumi"}

aws_provider = aws.Provider("aws", region=cfg.region)
on_aws = pulumi.ResourceOptions(provider=aws_provider)
identity = aws.get_caller_identity(opts=pulumi.InvokeOptions(provider=aws_provider))
partition = aws.get_partition(opts=pulumi.InvokeOptions(provider=aws_provider)).partition

store_cfg = cfg.artifact_store
artifacts = ArtifactStore(
    "artifacts",
    ArtifactStoreArgs(
        bucket_name=f"{cfg.name_prefix}-{env}-artifacts-{identity.account_id}",
        account_id=identity.account_id,
        region=cfg.region,
        partition=partition,
        tags=tags,
        noncurrent_version_expiration_days=store_cfg.noncurrent_version_expiration_days,
        abort_incomplete_multipart_days=store_cfg.abort_incomplete_multipart_days,
        transition_days=store_cfg.transition.days if store_cfg.transition else None,
        transition_storage_class=(
            store_cfg.transition.storage_class if store_cfg.transition else "INTELLIGENT_TIERING"
        ),
        access_logging=store_cfg.access_logging,
        access_log_retention_days=store_cfg.access_log_retention_days,
        force_destroy=store_cfg.force_destroy,
        protect=store_cfg.protect,
    ),
    opts=on_aws,
)

pulumi.export("region", cfg.region)
pulumi.export("artifact_bucket", artifacts.bucket_name)
pulumi.export("artifact_bucket_arn", artifacts.bucket_arn)
pulumi.export("artifact_kms_key_arn", artifacts.kms_key_arn)
