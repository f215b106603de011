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


def plain(value: Any, *, reveal: bool = False, hidden: list[bool] | None = None) -> Any:
    """Plain value with secrets shown as "[secret]" (or revealed) and refs as URNs.

    ``hidden`` (when given) gets an entry for each secret or unknown value shown as a
    placeholder: the value the pack must see instead is then `for_pack`'s.
    """
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            if reveal:
                return plain(value.get("value"), reveal=True)
            if hidden is not None:
                hidden.append(True)
            return SECRET
        if sig == RESOURCE_SIG:
            return value.get("urn")
        if sig == OUTPUT_SIG:
            if value.get("secret") and not reveal:
                if hidden is not None:
                    hidden.append(True)
                return SECRET
            if "value" not in value:  # unknown
                if hidden is not None:
                    hidden.append(True)
                return None
            return plain(value.get("value"), reveal=reveal, hidden=hidden)
        if sig in (ASSET_SIG, ARCHIVE_SIG):
            return {
                k: plain(v, reveal=reveal, hidden=hidden)
                for k, v in sorted(value.items())
                if k != SIG_KEY
            }
        return {k: plain(v, reveal=reveal, hidden=hidden) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [plain(v, reveal=reveal, hidden=hidden) for v in value]
    if isinstance(value, float) and value.is_integer():
        # protobuf Struct carries every number as a double
        return int(value)
    if value == UNKNOWN:
        if hidden is not None:
            hidden.append(True)
        return "[unknown]"
    return value


def for_pack(value: Any) -> Any:
    """The value as the Pulumi engine hands it to a policy pack's analyzer: secrets in their
    envelope (the analyzer gives rules the plaintext), unknowns as Pulumi's unknown
    sentinel, resource references as URNs; otherwise as `plain`."""
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            return {SIG_KEY: SECRET_SIG, "value": for_pack(value.get("value"))}
        if sig == RESOURCE_SIG:
            return value.get("urn")
        if sig == OUTPUT_SIG:
            inner = for_pack(value["value"]) if "value" in value else UNKNOWN
            return {SIG_KEY: SECRET_SIG, "value": inner} if value.get("secret") else inner
        if sig in (ASSET_SIG, ARCHIVE_SIG):
            return {k: for_pack(v) for k, v in sorted(value.items()) if k != SIG_KEY}
        return {k: for_pack(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [for_pack(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def struct_to_plain(struct: struct_pb2.Struct, *, reveal: bool = False) -> dict[str, Any]:
    # imported here: moto's helper process uses the signatures above, not protobuf
    from google.protobuf import json_format

    return plain(json_format.MessageToDict(struct), reveal=reveal)


def struct_to_recorded(struct: struct_pb2.Struct) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(plain inputs, the pack's inputs): the latter only when they differ, i.e. when a
    secret or unknown value is shown as a placeholder in the former."""
    from google.protobuf import json_format

    raw = json_format.MessageToDict(struct)
    hidden: list[bool] = []
    shown = plain(raw, hidden=hidden)
    return shown, (for_pack(raw) if hidden else None)


def contains_secret(value: Any) -> bool:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return True
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secret(v) for v in value)
    return False
