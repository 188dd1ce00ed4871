"""The state pass builds a payload or discovery config again only when its inputs changed
(sans-IO: the pass's own classes, no broker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.model.entities import Area, ArmingState, Device, Point
from gateway.sdk.site_view import SiteView
from plugins.mqtt.delivery import Message
from plugins.mqtt.discovery import Discovery
from plugins.mqtt.memo import Memo
from plugins.mqtt.state import RetainedState
from plugins.mqtt.topics import Topics

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_memo_rebuilds_only_for_changed_inputs_and_forgets_what_was_not_asked() -> None:
    memo: Memo[str] = Memo()
    calls: list[str] = []

    def build(name: str) -> str:
        calls.append(name)
        return name.upper()

    a, b = ["x"], ["y"]
    assert memo.get("a", a, build, "a") == "A" and memo.get("b", b, build, "b") == "B"
    memo.sweep()
    assert memo.get("a", a, build, "a") == "A"  # same object
    assert memo.get("b", ["y"], build, "b") == "B"  # an equal copy
    memo.sweep()
    assert calls == ["a", "b"]
    assert memo.get("a", ["changed"], build, "a2") == "A2"
    memo.sweep()  # "b" was not asked for in this pass: forgotten
    assert memo.get("b", b, build, "b") == "B"
    assert calls == ["a", "b", "a2", "b"] and memo.built == 4


def site(devices: list[Device], points: list[Point]) -> SiteView:
    return SiteView({d.address: d for d in devices}, {}, {p.address: p for p in points})


def panel(n: int, **fields: object) -> Device:
    return Device.model_validate(
        {"address": f"hq/acct-{n}", "kind": "panel", "status": "online", "last_seen": NOW} | fields
    )


def zones(n: int) -> list[Point]:
    return [Point(address=f"hq/acct-{n}/zone-{z}", kind="zone") for z in (1, 2)]


def published(messages: list[Message], into: RetainedState | Discovery) -> None:
    for message in messages:
        into.published(message)


def test_status_payloads_are_built_again_only_for_a_device_that_changed() -> None:
    state = RetainedState(Topics("anfang"))
    devices = [panel(1), panel(2)]
    first = state.changes(devices, [])
    published(first, state)
    assert len(first) == 2 and state.built.built == 2

    assert state.changes(devices, []) == [] and state.built.built == 2
    heard = devices[0].model_copy(update={"last_seen": NOW + timedelta(seconds=1)})
    (again,) = state.changes([heard, devices[1]], [])
    assert again.topic == "anfang/devices/hq/acct-1/status" and b'"last_seen"' in again.payload
    assert state.built.built == 3


def test_zone_configs_follow_their_panels_name_but_not_its_last_seen() -> None:
    discovery = Discovery(Topics("anfang"), "homeassistant", "hq", "0.1.0")
    points = zones(1) + zones(2)
    devices = [panel(1), panel(2)]
    first = discovery.changes(discovery.configs(site(devices, points)))
    published(first, discovery)
    assert len(first) == 4
    built = discovery._built.built

    heard = devices[0].model_copy(update={"last_seen": NOW + timedelta(seconds=1)})
    assert discovery.changes(discovery.configs(site([heard, devices[1]], points))) == []
    assert discovery._built.built == built  # nothing built again

    renamed = heard.model_copy(update={"name": "Bank vault panel"})
    changed = discovery.changes(discovery.configs(site([renamed, devices[1]], points)))
    assert sorted(m.topic.split("/")[3] for m in changed) == [
        "hq_acct-1_zone-1",
        "hq_acct-1_zone-2",
    ]
    assert all(b'"name":"Bank vault panel"' in m.payload for m in changed)


def test_an_area_is_built_again_when_its_arming_changes() -> None:
    state = RetainedState(Topics("anfang"))
    vault = Area(site="hq", name="vault")
    published(state.changes([], [vault]), state)
    assert state.changes([], [vault]) == [] and state.built.built == 1
    armed = vault.model_copy(update={"arming": ArmingState.AWAY, "changed_at": NOW})
    (message,) = state.changes([], [armed])
    assert message.topic == "anfang/areas/hq/vault/state"
    assert b'"arming":"away"' in message.payload and state.built.built == 2
