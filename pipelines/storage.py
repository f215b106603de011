"""Object-store I/O (S3 API; `AWS_ENDPOINT_URL` points it at the local SeaweedFS)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

if TYPE_CHECKING:
    import pandas as pd


def s3_client() -> Any:
    import boto3

    # boto3 reads AWS_ENDPOINT_URL itself; passing it keeps older botocore honest too.
    return boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)


def split_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"not an s3:// URI: {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


def put_bytes(uri: str, data: bytes, content_type: str = "application/octet-stream") -> str:
    bucket, key = split_uri(uri)
    s3_client().put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)
    return uri


def put_directory(directory: Path, uri: str) -> str:
    """Upload every file under `directory` to ``<uri>/<relative path>``; returns `uri`."""
    uri = uri.rstrip("/")
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            put_bytes(f"{uri}/{path.relative_to(directory).as_posix()}", path.read_bytes())
    return uri


def get_bytes(uri: str) -> bytes:
    bucket, key = split_uri(uri)
    body: bytes = s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def write_parquet(frame: pd.DataFrame, uri: str) -> str:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return put_bytes(uri, buffer.getvalue())


def read_parquet(uri: str) -> pd.DataFrame:
    import pandas as pd

    return pd.read_parquet(io.BytesIO(get_bytes(uri)))
