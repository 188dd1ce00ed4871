"""Payloads, both ways: what the connector publishes and the command requests it accepts.

Sans-IO: bytes and models in, bytes or typed requests out; nothing here touches a socket.
Every payload is UTF-8 JSON. Event payloads are the journal's own bytes (the exact JSON the
hash chain covers) with ``seq`` filled in: a platform receives exactly what was recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway.journal import ChainHead, JournalRecord
from gateway.model.command import CommandResult
from gateway.model.entities import Area, Device

ACTION_MAX = 100


def event_payload(record: JournalRecord) -> bytes:
    """The event's JSON with its journal ``seq`` set (the stored bytes carry ``null``)."""
    payload = record.event_json()
    if payload is not None:
        return payload
    # a pruned record has no payload to send: its header says what it was
    return json.dumps(
        {
            "seq": record.seq,
            "id": record.id,
            "kind": record.kind,
            "source": record.source,
            "pruned": True,
        },
        separators=(",", ":"),
    ).encode()


def _dumps(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, default=str).encode()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def device_status_payload(device: Device) -> bytes:
    return _dumps(
        {
            "address": device.address,
            "kind": device.kind,
            "name": device.name,
            "status": device.status.value,
            "last_seen": _iso(device.last_seen),
            "unknown": device.unknown,
        }
    )


def area_state_payload(area: Area) -> bytes:
    return _dumps(
        {
            "area": area.address,
            "title": area.title,
            "arming": area.arming.value,
            "bypassed": list(area.bypassed),
            "latched": list(area.latched),
            "alarm": bool(area.latched),
            "changed_at": _iso(area.changed_at),
        }
    )


def head_payload(head: ChainHead, at: datetime) -> bytes:
    return _dumps({"seq": head.seq, "hash": head.hash_hex, "at": _iso(at)})


def telemetry_payload(values: dict[str, float], source: str, at_us: int) -> bytes:
    at = datetime.fromtimestamp(at_us / 1e6, UTC)
    return _dumps({**values, "source": source, "at": _iso(at)})


# -- commands in --------------------------------------------------------------------------------


class CommandPayloadError(ValueError):
    """A command payload that cannot be a command; the message says exactly why."""


@dataclass(frozen=True, slots=True)
class CommandRequest:
    action: str
    params: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    request_id: str | None = None
    timeout_s: float | None = None


_KNOWN_KEYS = {"action", "params", "reason", "request_id", "timeout_s"}


def request_id_of(payload: bytes) -> str | None:
    """Best effort: the ``request_id`` of a payload rejected for another reason, to echo it."""
    if not payload.lstrip().startswith(b"{"):
        return None
    try:
        obj = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    value = obj.get("request_id") if isinstance(obj, dict) else None
    return value[:128] if isinstance(value, str) else None


def parse_command(payload: bytes, max_bytes: int) -> CommandRequest:
    """A command request from a JSON object: ``{"action": "area.arm", "params": {...},
    "reason": "...", "request_id": "...", "timeout_s": 5}``."""
    if len(payload) > max_bytes:
        raise CommandPayloadError(f"payload is {len(payload)} bytes; the limit is {max_bytes}")
    if not payload.strip():
        raise CommandPayloadError("empty payload: send a JSON object with an 'action'")
    try:
        obj = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CommandPayloadError(f"payload is not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise CommandPayloadError(
            f"payload is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise CommandPayloadError("payload is nested too deeply") from None
    if not isinstance(obj, dict):
        raise CommandPayloadError(f"payload must be a JSON object, not {type(obj).__name__}")
    unknown = sorted(set(obj) - _KNOWN_KEYS)
    if unknown:
        raise CommandPayloadError(
            f"unknown key(s) {', '.join(map(repr, unknown))}; allowed: "
            + ", ".join(sorted(_KNOWN_KEYS))
        )
    action = obj.get("action")
    if not isinstance(action, str) or not action:
        raise CommandPayloadError("'action' is required and must be a string such as 'area.arm'")
    if len(action) > ACTION_MAX:
        raise CommandPayloadError(f"'action' is longer than {ACTION_MAX} characters")
    params = obj.get("params", {})
    if not isinstance(params, dict):
        raise CommandPayloadError(f"'params' must be an object, not {type(params).__name__}")
    reason = obj.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise CommandPayloadError("'reason' must be a string")
    request_id = obj.get("request_id")
    if request_id is not None and (not isinstance(request_id, str) or len(request_id) > 128):
        raise CommandPayloadError("'request_id' must be a string of at most 128 characters")
    timeout = obj.get("timeout_s")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 3600
    ):
        raise CommandPayloadError("'timeout_s' must be a number of seconds, 0 < timeout_s <= 3600")
    return CommandRequest(
        action=action,
        params=params,
        reason=reason,
        request_id=request_id,
        timeout_s=None if timeout is None else float(timeout),
    )


def result_payload(result: CommandResult, request_id: str | None) -> bytes:
    body = result.model_dump(mode="json")
    body["request_id"] = request_id
    return _dumps(body)


def error_payload(target: str | None, error: str, request_id: str | None) -> bytes:
    """The answer to a payload that never became a command (nothing was dispatched)."""
    return _dumps({"status": "error", "target": target, "error": error, "request_id": request_id})
