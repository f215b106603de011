"""Turn the property structs the SDK sends into plain, deterministic JSON values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.protobuf import struct_pb2

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET = "[secret]"


def plain(value: Any, *, reveal: bool = False) -> Any:
    """Plain value with secrets shown as "[secret]" (or revealed) and refs as URNs."""
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            return plain(value.get("value"), reveal=True) if reveal else SECRET
        if sig == RESOURCE_SIG:
            return value.get("urn")
        if sig == OUTPUT_SIG:
            if value.get("secret") and not reveal:
                return SECRET
            return plain(value.get("value"), reveal=reveal) if "value" in value else None
        if sig in (ASSET_SIG, ARCHIVE_SIG):
            return {k: plain(v, reveal=reveal) for k, v in sorted(value.items()) if k != SIG_KEY}
        return {k: plain(v, reveal=reveal) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [plain(v, reveal=reveal) for v in value]
    if isinstance(value, float) and value.is_integer():
        # protobuf Struct carries every number as a double
        return int(value)
    if value == UNKNOWN:
        return "[unknown]"
    return value


def struct_to_plain(struct: struct_pb2.Struct, *, reveal: bool = False) -> dict[str, Any]:
    # imported here: moto's helper process uses the signatures above, not protobuf
    from google.protobuf import json_format

    return plain(json_format.MessageToDict(struct), reveal=reveal)


def contains_secret(value: Any) -> bool:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return True
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secret(v) for v in value)
    return False
