"""``anfang rules test`` (the dry run) and ``anfang check`` on rule references."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from gateway import logs
from gateway.cli.main import main
from gateway.model.entities import Area, ArmingState, Device
from gateway.registry.statedb import StateDB

BANK = """\
site: {id: branch-01, timezone: Asia/Shanghai}
areas:
  - {name: lobby, device: branch-01/panel-1, local_id: "1"}
  - {name: vault, device: branch-01/panel-1, local_id: "2"}
devices:
  - {address: branch-01/panel-1/zone-3, name: Teller hold-up button, area: lobby}
  - {address: branch-01/panel-1/zone-2, name: Lobby motion, area: lobby}
  - {address: branch-01/cam-lobby, name: Lobby camera}
  - {address: branch-01/door-1, name: Back door}
  - {address: branch-01/ups-1, name: Light and siren relays}
plugins:
  - {id: demo, plugin: demo}
rules:
  - name: after-hours-intrusion
    when: {kind: intrusion, phase: alarm}
    if:
      - armed: true
      - schedule:
          windows:
            - {days: [mon, tue, wed, thu, fri], start: "18:00", end: "08:00"}
            - {days: [sat, sun]}
          holidays: [2026-10-01]
    then:
      - parallel:
          - command: {target: branch-01/cam-lobby, action: camera.goto_preset, params: {preset: 1}}
          - command: {target: branch-01/ups-1, action: output.set, params: {output: lights}}
          - command: {target: branch-01/ups-1, action: output.set, params: {output: siren}}
  - name: fire-release
    when: {kind: fire, phase: alarm}
    then:
      - command: {target: branch-01/door-1, action: door.unlock, params: {area: "{area}"}}
"""


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """main() points logging at this test's captured stderr; later tests must not log there."""
    saved = structlog.get_config()
    saved_settings = logs.settings
    handlers = list(logging.getLogger().handlers)
    yield
    logs.configure(*saved_settings)  # the level gate of per-event lines
    structlog.configure(**saved)
    logging.getLogger().handlers[:] = handlers


def write(tmp_path: Path, config: str = BANK) -> Path:
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(config)
    return cfg


def armed_data_dir(tmp_path: Path, arming: ArmingState) -> Path:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    db = StateDB(data / "state.sqlite3")
    area = Area(site="branch-01", name="lobby", device="branch-01/panel-1", local_id="1")
    db.put("area", area.address, area.model_copy(update={"arming": arming}).model_dump(mode="json"))
    db.flush()
    db.close()
    return data


def event_file(tmp_path: Path, **fields: object) -> Path:
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"phase": "alarm", **fields}))
    return path


def test_dry_run_lists_matching_rules_their_commands_and_why_others_do_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write(tmp_path)
    data = armed_data_dir(tmp_path, ArmingState.AWAY)
    event = event_file(tmp_path, kind="intrusion", source="branch-01/panel-1/zone-2", area="1")
    code = main(
        [
            "--data-dir",
            str(data),
            "rules",
            "test",
            "-c",
            str(cfg),
            "--event",
            str(event),
            "--at",
            "2026-03-02T21:30",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "at 2026-03-02 21:30:00 Mon Asia/Shanghai" in out
    assert "1 rule(s) match:\n  after-hours-intrusion\n    at the same time:" in out
    assert 'send camera.goto_preset to branch-01/cam-lobby {"preset": 1}' in out
    assert 'send output.set to branch-01/ups-1 {"output": "siren"}' in out
    assert "fire-release: when: kind intrusion is not fire" in out

    code = main(
        [
            "--data-dir",
            str(data),
            "rules",
            "test",
            "-c",
            str(cfg),
            "--event",
            str(event),
            "--at",
            "2026-03-02T10:00+08:00",
        ]
    )
    out = capsys.readouterr().out
    assert "no rule matches" in out
    assert "after-hours-intrusion: if[1]: mon 2026-03-02 10:00 Asia/Shanghai is outside" in out


def test_dry_run_lists_incident_and_notify_actions_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hold-up rule whose only actions were an incident and a notification showed as
    matching with nothing under it."""
    holdup = (
        "  - name: hold-up\n    when: {kind: panic, phase: alarm}\n    then:\n"
        "      - incident: {class: hold-up, note: 'silent alarm at {source}'}\n"
        "      - incident: {note: 'second look'}\n"
        "      - notify: {channel: duty, to: ['+8613800000000'], subject: 'HOLD-UP {source}'}\n"
    )
    cfg = write(tmp_path, BANK + holdup)
    event = event_file(tmp_path, kind="panic.silent", source="branch-01/panel-1/zone-3")
    code = main(
        [
            "--data-dir",
            str(tmp_path / "none"),
            "rules",
            "test",
            "-c",
            str(cfg),
            "--event",
            str(event),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert (
        "open a hold-up incident for the trigger (or join the open one of its source and kind) "
        "with the note 'silent alarm at branch-01/panel-1/zone-3'" in out
    )
    assert "note on the trigger's open incident with the note 'second look'" in out
    assert "notify through duty to +8613800000000: 'HOLD-UP branch-01/panel-1/zone-3'" in out


def test_dry_run_explains_a_disarmed_area_and_fills_in_templates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write(tmp_path)
    data = armed_data_dir(tmp_path, ArmingState.DISARMED)
    intrusion = event_file(tmp_path, kind="intrusion", source="branch-01/panel-1/zone-2")
    main(
        [
            "--data-dir",
            str(data),
            "rules",
            "test",
            "-c",
            str(cfg),
            "--event",
            str(intrusion),
            "--at",
            "2026-03-02T21:30",
        ]
    )
    assert (
        "after-hours-intrusion: if[0]: area lobby is disarmed, not armed" in capsys.readouterr().out
    )
    fire = event_file(tmp_path, kind="fire", source="branch-01/panel-1/zone-3")
    main(["--data-dir", str(data), "rules", "test", "-c", str(cfg), "--event", str(fire)])
    out = capsys.readouterr().out
    assert 'send door.unlock to branch-01/door-1 {"area": "branch-01/lobby"}' in out


def test_dry_run_judges_as_if_an_area_were_armed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--arming lobby=away`` overrides what the data directory says (here: disarmed), so an
    installer can try the after-hours rule on a site that is open right now."""
    cfg = write(tmp_path)
    data = armed_data_dir(tmp_path, ArmingState.DISARMED)
    event = event_file(tmp_path, kind="intrusion", source="branch-01/panel-1/zone-2", area="1")
    argv = ["--data-dir", str(data), "rules", "test", "-c", str(cfg), "--event", str(event)]
    assert main([*argv, "--at", "2026-03-02T21:30", "--arming", "lobby=away"]) == 0
    out = capsys.readouterr().out
    assert "1 rule(s) match:\n  after-hours-intrusion" in out
    assert main([*argv, "--arming", "lobby=armed"]) == 2
    assert "must be one of away, stay, disarmed" in capsys.readouterr().err
    assert main([*argv, "--arming", "hall=away"]) == 2
    assert "no area 'hall' (areas: lobby" in capsys.readouterr().err


def test_dry_run_rejects_a_bad_event_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write(tmp_path)
    bad = event_file(tmp_path, kind="intrusion")  # no source
    assert main(["rules", "test", "-c", str(cfg), "--event", str(bad)]) == 2
    assert "source: Field required" in capsys.readouterr().err


def test_check_accepts_the_bank_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write(tmp_path)
    assert main(["--data-dir", str(tmp_path / "empty"), "check", "-c", str(cfg)]) == 0
    assert "2 rule(s)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (
            "{target: branch-01/cam-nowhere, action: camera.goto_preset}",
            "rules[2].then[0].command.target: unknown device 'branch-01/cam-nowhere'",
        ),
        (
            "{target: branch-01/cam-lobby, action: camera.zoom}",
            "rules[2].then[0].command.action: no configured plugin supports camera.zoom",
        ),
        (
            "{target: branch-01/vault, action: door.unlock}",
            "rules[2].then[0].command.action: branch-01/vault is an area",
        ),
    ],
)
def test_check_rejects_rules_naming_a_missing_device_or_action(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rule: str, problem: str
) -> None:
    cfg = write(tmp_path, BANK + f"  - name: broken\n    then: [{{command: {rule}}}]\n")
    assert main(["--data-dir", str(tmp_path / "empty"), "check", "-c", str(cfg)]) == 2
    assert problem in capsys.readouterr().err


def test_check_rejects_a_missing_area_and_an_unknown_derived_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = (
        "  - name: broken\n    when: {area: attic}\n    if: [{disarmed: [cellar]}]\n"
        "    then: [{event: {kind: intrusion.imagined}}]\n"
    )
    cfg = write(tmp_path, BANK + extra)
    assert main(["--data-dir", str(tmp_path / "empty"), "check", "-c", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "rules[2].when.area: unknown area 'attic'" in err
    assert "rules[2].if[0].disarmed: unknown area 'cellar'" in err
    assert "rules[2].then[0].event.kind: kind 'intrusion.imagined' is not registered" in err


def test_check_rejects_rules_that_can_never_fire(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelled kind, or a phase the kind never takes, once passed check: a siren that
    never sounds. Globs and prefixes that match something still pass."""
    extra = (
        "  - name: typo\n    when: {kind: intrusoin}\n    then: [{event: {kind: intrusion}}]\n"
        "  - name: never-alarm\n    when: {kind: access.granted, phase: alarm}\n"
        "    then: [{event: {kind: intrusion}}]\n"
        "  - name: nothing-near\n    when: {kind: 'qqq.*'}\n"
        "    then: [{event: {kind: intrusion}}]\n"
        "  - name: fine\n    when: {kind: ['panic', 'trouble.*'], phase: [alarm]}\n"
        "    then: [{event: {kind: intrusion}}]\n"
    )
    cfg = write(tmp_path, BANK + extra)
    assert main(["--data-dir", str(tmp_path / "empty"), "check", "-c", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert (
        "rules[2].when.kind: no kind is 'intrusoin' or under it, so the rule can never fire; "
        "did you mean intrusion?" in err
    )
    assert "rules[3].when.phase: 'access.granted' events never have phase alarm" in err
    assert "rules[4].when.kind: no kind is 'qqq.*'" in err and "event-kinds.md" in err
    assert "rules[5]" not in err


def test_check_uses_what_the_registry_knows_of_devices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db = StateDB(data / "state.sqlite3")
    cam = Device(
        address="branch-01/cam-2", kind="ipc", plugin="demo", capabilities=["camera.goto_preset"]
    )
    db.put("device", cam.address, cam.model_dump(mode="json"))
    db.flush()
    db.close()
    ok = (
        "  - name: seen\n"
        "    then: [{command: {target: branch-01/cam-2, action: camera.goto_preset}}]\n"
    )
    cfg = write(tmp_path, BANK + ok)
    assert main(["--data-dir", str(data), "check", "-c", str(cfg)]) == 0
    capsys.readouterr()
    cfg = write(tmp_path, BANK + ok.replace("camera.goto_preset", "door.unlock"))
    assert main(["--data-dir", str(data), "check", "-c", str(cfg)]) == 2
    assert "branch-01/cam-2 does not support door.unlock (it supports: camera.goto_preset)" in (
        capsys.readouterr().err
    )


def test_check_rejects_unknown_incident_classes_and_notifier_channels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = (
        "  - name: broken\n    when: {kind: panic}\n"
        "    then:\n"
        "      - incident: {class: robbery}\n"
        "      - notify: {channel: pager, subject: 'panic at {source}'}\n"
        "incidents:\n"
        "  classes:\n"
        "    - name: hold-up\n      kinds: [panic]\n      grade: 1\n      ack_within_s: 60\n"
        "      escalation: {notify: [{channel: duty-sms}]}\n"
    )
    cfg = write(tmp_path, BANK + extra)
    assert main(["--data-dir", str(tmp_path / "empty"), "check", "-c", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert (
        "rules[2].then[0].incident.class: unknown incident class 'robbery' (declared: hold-up)"
        in err
    )
    assert "rules[2].then[1].notify.channel: unknown notifier channel 'pager'" in err
    assert (
        "incidents.classes[0].escalation.notify[0].channel: unknown notifier channel 'duty-sms'"
        in err
    )


def test_bad_incident_classes_are_reported_with_their_key_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = (
        "incidents:\n  classes:\n"
        "    - {name: a, kinds: [notify.request], grade: 1}\n"
        "    - {name: b, kinds: [fire], grade: 7}\n"
    )
    cfg = write(tmp_path, BANK + extra)
    assert main(["--data-dir", str(tmp_path / "empty"), "check", "-c", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "incidents.classes[0].kinds" in err and "the gateway's own records" in err
    assert "incidents.classes[1].grade" in err
