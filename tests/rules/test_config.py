"""Rules in the config: every problem with its key path; rule files by ``include``."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config
from gateway.sdk.discovery import discover

INSTALLED = discover().classes
SITE = "site: {id: hq}\n"
THEN = "then: [{command: {target: hq/cam-1, action: camera.goto_preset}}]"


def problems(tmp_path: Path, text: str) -> list[str]:
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(cfg, INSTALLED)
    return [str(i) for i in err.value.issues]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("{name: r, when: {kind: Intrusion!}, " + THEN + "}", "rules[2].when.kind"),
        (
            "{name: r, when: {where: 'data.x >'}, " + THEN + "}",
            "rules[2].when.where: Value error, expected a value",
        ),
        ("{name: r, when: {phase: begin}, " + THEN + "}", "rules[2].when.phase[0]"),
        ("{name: r, if: [{armed: vault, disarmed: lobby}], " + THEN + "}", "exactly one of"),
        ("{name: r, if: [{schedule: {timezone: Mars/Base}}], " + THEN + "}", "unknown time zone"),
        (
            "{name: r, if: [{schedule: {windows: [{start: '25:00'}]}}], " + THEN + "}",
            "rules[2].if[0].schedule.windows[0].start",
        ),
        (
            "{name: r, if: [{correlate: {count: 1, within_s: 60}}], " + THEN + "}",
            "rules[2].if[0].correlate.count",
        ),
        ("{name: r, then: []}", "rules[2].then"),
        ("{name: r, then: [{wait: 1, command: {target: hq/x, action: a.b}}]}", "rules[2].then[0]"),
        (
            "{name: r, then: [{command: {target: hq/x, action: Unlock}}]}",
            "rules[2].then[0].command.action",
        ),
        (
            "{name: r, then: [{command: {target: '{room}', action: a.b}}]}",
            "unknown placeholder {room}",
        ),
        ("{name: r, mode: sometimes, " + THEN + "}", "rules[2].mode"),
        ("{name: r, colour: red, " + THEN + "}", "rules[2].colour: unknown key"),
        ("{name: a, " + THEN + "}", "rules[2].name: duplicate rule name 'a' (also rules[0])"),
    ],
)
def test_bad_rules_are_reported_with_their_key_path(
    tmp_path: Path, rule: str, expected: str
) -> None:
    text = SITE + f"rules:\n  - {{name: a, {THEN}}}\n  - {{name: b, {THEN}}}\n  - {rule}\n"
    found = problems(tmp_path, text)
    assert any(expected in p for p in found), found


def test_rule_files_are_included_and_their_problems_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "bank.yaml").write_text(
        f"rules:\n  - {{name: extra, when: {{kind: fire}}, {THEN}}}\n"
    )
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(SITE + f"include: [rules/bank.yaml]\nrules:\n  - {{name: main, {THEN}}}\n")
    loaded = load_config(cfg, INSTALLED)
    assert [r.name for r in loaded.gateway.rules] == ["main", "extra"]
    assert loaded.gateway.rules[1].when.kind == ["fire"]

    (tmp_path / "rules" / "bank.yaml").write_text(
        f"rules:\n  - {{name: extra, {THEN}}}\n  - {{name: x, when: {{kind: 3}}, {THEN}}}\n"
    )
    found = problems(tmp_path, cfg.read_text())
    assert any("rules/bank.yaml: rules[1].when.kind" in p for p in found), found
    (tmp_path / "rules" / "bank.yaml").write_text("colour: red\n")
    found = problems(tmp_path, cfg.read_text())
    assert any("include[0]" in p and "one key, 'rules'" in p for p in found), found
    cfg.write_text(SITE + "include: [rules/missing.yaml]\n")
    found = problems(tmp_path, cfg.read_text())
    assert any(p.startswith("include[0]: cannot read") for p in found), found
