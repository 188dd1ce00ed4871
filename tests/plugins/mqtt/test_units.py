"""The sans-IO parts on their own: window bookkeeping, backoff, topics, payloads, derived
state."""

from __future__ import annotations

import json
import random

import pytest

from gateway.journal.records import JournalRecord, RecordType, prepare
from gateway.model.kinds import Phase
from plugins.mqtt.backoff import Backoff
from plugins.mqtt.derive import point_state, telemetry
from plugins.mqtt.payloads import CommandPayloadError, event_payload, parse_command
from plugins.mqtt.topics import Topics
from plugins.mqtt.window import AckWindow
from tests.plugins.mqtt.helpers import intrusion


def record(seq: int, event: object) -> JournalRecord:
    entry = prepare(event)  # type: ignore[arg-type]
    return JournalRecord(
        seq,
        RecordType.EVENT,
        entry.id,
        entry.kind,
        entry.source,
        entry.phase,
        entry.priority,
        entry.ts_us,
        1,
        entry.payload,
        b"",
        b"",
        b"",
    )


def test_window_commits_only_the_contiguous_acknowledged_prefix() -> None:
    w = AckWindow(4)
    for seq in (10, 11, 12, 13):
        w.sent(seq)
    assert w.full
    assert w.acked(12) is None and w.acked(11) is None, "10 is still out"
    assert w.acked(10) == 12
    assert w.unacked() == [13]
    assert w.acked(13) == 13 and w.empty
    with pytest.raises(ValueError, match="journal order"):
        w.sent(14)
        w.sent(14)
    assert w.high_water == 4


def test_backoff_is_jittered_capped_and_resets() -> None:
    b = Backoff(0.5, 8.0, random.Random(1))
    delays = [b.next_delay() for _ in range(12)]
    assert all(0.25 <= d <= 8.0 for d in delays)
    assert max(delays[6:]) > 4.0, "the cap grows to the maximum"
    assert len(set(delays)) == len(delays), "jittered, not lock-step"
    b.reset()
    assert b.next_delay() <= 0.5


def test_topics() -> None:
    t = Topics("anfang")
    assert t.event("trouble.ac_loss", "hq/panel-1") == "anfang/events/trouble/ac_loss/hq/panel-1"
    assert t.command_target("anfang/commands/hq/vault") == "hq/vault"
    assert t.command_target("anfang/commands/hq/panel-1/zone-3") == "hq/panel-1/zone-3"
    for bad in (
        "anfang/commands/hq",
        "anfang/commands/a/b/c/d",
        "other/commands/hq/x",
        "anfang/commands/hq/-x",
    ):
        with pytest.raises(ValueError):
            t.command_target(bad)


def test_event_payload_is_the_journal_bytes_with_seq() -> None:
    event = intrusion(4)
    r = record(77, event)
    body = json.loads(event_payload(r))
    assert body["seq"] == 77
    assert {k: v for k, v in body.items() if k != "seq"} == {
        k: v for k, v in json.loads(r.payload or b"").items() if k != "seq"
    }


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "empty"),
        (b"null", "JSON object"),
        (b'{"action": "x.y", "params": 3}', "'params'"),
        (b'{"action": "x.y", "reason": 3}', "'reason'"),
        (b'{"action": "x.y", "request_id": 3}', "'request_id'"),
        (b'{"action": "x.y", "timeout_s": true}', "'timeout_s'"),
        (b'{"action": "x.y", "timeout_s": 99999}', "'timeout_s'"),
        (b'{"action": "' + b"a" * 200 + b'"}', "longer than"),
    ],
)
def test_parse_command_says_what_is_wrong(payload: bytes, reason: str) -> None:
    with pytest.raises(CommandPayloadError, match=reason):
        parse_command(payload, 1024)


def test_parse_command_accepts_a_full_request() -> None:
    req = parse_command(
        b'{"action": "door.unlock", "params": {"s": 5}, "reason": "visitor", '
        b'"request_id": "r9", "timeout_s": 2.5}',
        1024,
    )
    assert (req.action, req.params, req.reason, req.request_id, req.timeout_s) == (
        "door.unlock",
        {"s": 5},
        "visitor",
        "r9",
        2.5,
    )


def test_derived_point_state_and_telemetry() -> None:
    alarm, restore = record(1, intrusion(0)), record(2, intrusion(1))
    assert point_state(alarm) is not None and point_state(alarm).active  # type: ignore[union-attr]
    assert point_state(restore) is not None and not point_state(restore).active  # type: ignore[union-attr]
    assert telemetry(alarm) == {"n": 0}
    opened = intrusion(0).model_copy(update={"kind": "door.opened", "phase": Phase.STATUS})
    assert point_state(record(3, opened)).active  # type: ignore[union-attr]
    armed = intrusion(0).model_copy(update={"kind": "arming.armed", "phase": Phase.STATUS})
    assert point_state(record(4, armed)) is None
    odd = intrusion(0).model_copy(update={"data": {"ok": True, "x": float("nan"), "v": 1.5}})
    assert telemetry(record(5, odd)) == {"v": 1.5}
