from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.model import (
    Command,
    CommandResult,
    Event,
    KindError,
    KindRegistry,
    KindSpec,
    Phase,
    ResultStatus,
)
from gateway.model.docgen import generated_files
from gateway.model.ids import uuid7, uuid7_time_ms
from gateway.model.kinds import CORE_KINDS, ONE_OFF

REPO = Path(__file__).resolve().parents[2]


def event(**kw: object) -> Event:
    base: dict[str, object] = {
        "kind": "intrusion",
        "phase": "alarm",
        "priority": 2,
        "source": "hq/panel-1/zone-1",
    }
    base.update(kw)
    return Event(**base)  # type: ignore[arg-type]


def test_times_are_normalised_to_utc() -> None:
    cst = timezone(timedelta(hours=8))
    e = event(occurred_at=datetime(2026, 1, 1, 8, 0, tzinfo=cst))
    assert e.occurred_at == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert e.occurred_at.utcoffset() == timedelta(0)


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        event(occurred_at=datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("priority", 0),
        ("priority", 5),
        ("kind", "Intrusion"),
        ("kind", "a..b"),
        ("source", "nope"),
        ("phase", "started"),
    ],
)
def test_out_of_range_fields_are_rejected(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        event(**{field: value})


def test_unknown_fields_are_rejected_and_events_are_immutable() -> None:
    with pytest.raises(ValidationError, match="extra"):
        event(colour="red")
    e = event()
    with pytest.raises(ValidationError):
        e.kind = "fire"  # type: ignore[misc]


def test_event_json_round_trip() -> None:
    e = event(data={"card": 1234, "facility": 7}, code="CID:E130", raw="1234 18 1130 01 012 5")
    assert Event.model_validate_json(e.model_dump_json()) == e


def test_uuid7_sorts_by_time_and_is_unique() -> None:
    ids = [uuid7() for _ in range(10_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(u.version == 7 for u in ids[:10])
    assert uuid7_time_ms(uuid7(now_ms=1_700_000_000_000)) >= 1_700_000_000_000


def test_command_and_result_validate() -> None:
    c = Command(
        target="hq/cam-lobby",
        action="camera.goto_preset",
        params={"preset": 3},
        issued_by="rule:after-hours",
    )
    r = CommandResult(command_id=c.id, target=c.target, action=c.action, status=ResultStatus.OK)
    assert r.status == "ok"
    with pytest.raises(ValidationError):
        Command(target="hq/cam", action="goto", issued_by="x")  # action needs a dot
    with pytest.raises(ValidationError):
        Command(target="hq/cam", action="camera.x", issued_by="")


def test_core_table_is_consistent() -> None:
    reg = KindRegistry()
    names = [k.name for k in CORE_KINDS]
    assert len(names) == len(set(names))
    for required in [
        "intrusion",
        "panic.holdup",
        "panic.duress",
        "fire",
        "trouble.ac_loss",
        "trouble.comm_fail",
        "arming.armed",
        "zone.bypassed",
        "access.granted",
        "door.forced",
        "video.signal_loss",
        "power.on_battery",
        "device.offline",
        "device.clock_skew",
        "plugin.fault",
        "test.periodic",
        "journal.fault",
    ]:
        assert required in reg
    assert reg.check("intrusion", Phase.RESTORE).priority == 2
    with pytest.raises(KindError, match="does not take phase"):
        reg.check("access.granted", Phase.ALARM)
    with pytest.raises(KindError, match="not registered"):
        reg.get("onvif.line_crossing")


def test_plugins_register_namespaced_kinds_only() -> None:
    reg = KindRegistry()
    spec = reg.register("onvif", KindSpec("onvif.line_crossing", "Line crossed", 3, ONE_OFF))
    assert spec.owner == "onvif" and "onvif.line_crossing" in reg
    with pytest.raises(KindError, match="must start with 'onvif.'"):
        reg.register("onvif", KindSpec("line_crossing", "x", 3, ONE_OFF))
    with pytest.raises(KindError, match="core kind root"):
        reg.register("fire", KindSpec("fire.sprinkler", "x", 1, ONE_OFF))
    with pytest.raises(KindError, match="already registered"):
        reg.register("onvif", KindSpec("onvif.line_crossing", "other text", 2, ONE_OFF))
    with pytest.raises(KindError, match="priority"):
        KindSpec("onvif.x", "x", 9, ONE_OFF)


def test_committed_docs_and_schemas_match_the_code() -> None:
    stale = []
    for path, text in generated_files(REPO).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(str(path.relative_to(REPO)))
    assert not stale, f"regenerate with 'python -m gateway.model.docgen': {stale}"


def test_every_schema_carries_a_schema_version() -> None:
    for path, text in generated_files(REPO).items():
        if path.suffix == ".json":
            assert '"schema_version"' in text, path
