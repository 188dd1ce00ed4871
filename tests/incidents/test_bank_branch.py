"""The worked bank-branch example of docs/rules.md, run as written (notifier instances switched
off so nothing leaves the machine): after-hours intrusion, silent hold-up with a grade-1 incident
escalated after 60 s, fire releasing the doors."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.cli.main import main
from gateway.config.loader import load_config
from gateway.host import Gateway, InstanceState
from gateway.journal import Filter
from gateway.model.command import Command
from gateway.model.event import Event
from gateway.model.kinds import Phase
from gateway.sdk.clock import ManualClock
from gateway.sdk.discovery import discover
from tests.incidents.helpers import records
from tests.rules.helpers import START, until

DOC = Path(__file__).parents[2] / "docs" / "rules.md"


def example() -> dict[str, Any]:
    text = DOC.read_text().split("## Worked example: a bank branch", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert block is not None
    loaded: dict[str, Any] = yaml.safe_load(block.group(1))
    return loaded


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMS_API_KEY", "test-key")
    monkeypatch.setenv("SMTP_PASSWORD", "test-password")


def test_the_example_passes_anfang_check(tmp_path: Path) -> None:
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(yaml.safe_dump(example(), allow_unicode=True))
    assert main(["--data-dir", str(tmp_path / "data"), "check", "-c", str(cfg)]) == 0


@pytest.fixture
async def branch(tmp_path: Path) -> AsyncIterator[Gateway]:
    config = example()
    for instance in config["plugins"]:
        if instance["plugin"] == "demo":  # quiet: the test makes the events
            instance["config"] = {"interval_s": 3600, "panel_test_s": 3600}
        else:
            instance["enabled"] = False  # requests are journaled; nobody sends them
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(yaml.safe_dump(config, allow_unicode=True))
    installed = discover()
    gw = Gateway(
        load_config(cfg, installed.classes),
        installed,
        data_dir=tmp_path / "data",
        clock=ManualClock(START),  # Monday 20:00 in Shanghai: after hours
    )
    await gw.start()
    await until(lambda: gw.runners["demo"].status.state is InstanceState.RUNNING, "demo runs")
    try:
        yield gw
    finally:
        await gw.stop()


async def panel(gw: Gateway, kind: str, zone: str, area: str, phase: Phase = Phase.ALARM) -> Event:
    now = gw.clock.now()
    event = Event(
        kind=kind,
        phase=phase,
        priority=1,
        source=f"branch-01/panel-1/{zone}" if zone else "branch-01/panel-1",
        area=area,
        occurred_at=now,
        received_at=now,
        plugin="demo",
    )
    seq = await gw.journal.append(event)
    return event.model_copy(update={"seq": seq})


def commands_for(gw: Gateway, trigger: Event) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for record in gw.journal.reader.query(Filter.build(types=["command"]), limit=1000):
        command = record.model
        assert isinstance(command, Command)
        if command.reason and trigger.id in command.reason:
            found.append((command.target, command.action, command.params))
    return sorted(found, key=str)


async def settled(gw: Gateway) -> None:
    assert gw.rules is not None
    await until(
        lambda: gw.rules is not None and gw.rules.processed >= gw.journal.committed_seq, "judged"
    )
    await until(lambda: gw.rules is not None and gw.rules.active_runs == 0, "runs done")
    await until(lambda: gw.incidents.applied_seq >= gw.journal.committed_seq, "incidents")


async def test_after_hours_intrusion_turns_camera_lights_and_siren(branch: Gateway) -> None:
    gw = branch
    await panel(gw, "arming.armed", "", "1", Phase.STATUS)
    trigger = await panel(gw, "intrusion", "zone-2", "1")
    await settled(gw)
    assert commands_for(gw, trigger) == sorted(
        [
            ("branch-01/cam-lobby", "camera.goto_preset", {"preset": 1}),
            ("branch-01/ups-1", "output.set", {"output": "lights"}),
            ("branch-01/ups-1", "output.set", {"output": "siren"}),
        ],
        key=str,
    )
    marks = [e for e in records(gw, "intrusion.verified") if e.data.get("trigger") == trigger.id]
    assert len(marks) == 1  # the recording mark
    assert [i.incident_class for i in gw.incidents.listing("open")] == ["intrusion"]


async def test_hold_up_is_silent_graded_and_escalated_after_60_s(branch: Gateway) -> None:
    gw = branch
    trigger = await panel(gw, "panic.holdup", "zone-3", "1")
    await settled(gw)
    assert commands_for(gw, trigger) == [
        ("branch-01/cam-lobby", "camera.goto_preset", {"preset": 2})
    ]  # no siren
    (incident,) = gw.incidents.listing("open")
    assert (incident.incident_class, incident.grade, incident.police.required) == (
        "hold-up",
        1,
        True,
    )
    assert [n.text for n in incident.notes] == [
        "lobby camera on preset 2 for branch-01/panel-1/zone-3"
    ]
    assert [r.data["channel"] for r in records(gw, "notify.request")] == ["duty-sms"]
    clock = gw.clock
    assert isinstance(clock, ManualClock)
    await clock.advance(59)
    assert records(gw, "incident.escalated") == []
    await clock.advance(2)
    await until(lambda: len(records(gw, "incident.escalated")) == 1, "escalated")
    channels = [r.data["channel"] for r in records(gw, "notify.request")]
    assert channels == ["duty-sms", "duty-sms", "ops-mail"]


async def test_fire_releases_the_doors_of_its_area(branch: Gateway) -> None:
    gw = branch
    trigger = await panel(gw, "fire", "zone-5", "2")
    await settled(gw)
    assert commands_for(gw, trigger) == [
        ("branch-01/door-1", "door.unlock", {"area": "branch-01/vault"})
    ]
    assert [i.incident_class for i in gw.incidents.listing("open")] == ["fire"]
