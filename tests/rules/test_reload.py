"""SIGHUP reload applies rule changes: the new rules judge what comes next, from the same
durable cursor, so nothing journaled around the reload is judged twice or not at all."""

from __future__ import annotations

from pathlib import Path

from gateway.config.loader import load_config
from gateway.journal import Filter
from tests.rules.helpers import BASE, emit, judged, runs, settled, started

BEFORE = """
rules:
  - name: verify-intrusion
    when: {kind: intrusion, phase: alarm}
    then:
      - event: {kind: intrusion.verified, text: "old rule"}
"""

AFTER = """
rules:
  - name: verify-intrusion-v2
    when: {kind: intrusion, phase: alarm}
    then:
      - event: {kind: intrusion.verified, text: "new rule"}
"""


async def test_a_reload_with_changed_rules_replaces_the_engine(tmp_path: Path) -> None:
    gw = await started(tmp_path, BEFORE)
    try:
        first = await emit(gw, "intrusion")
        await judged(gw)
        await settled(gw)
        cfg = tmp_path / "anfang.yaml"
        cfg.write_text(BASE + AFTER)
        await gw.reload(load_config(cfg, gw.installed.classes))
        second = await emit(gw, "intrusion")
        await judged(gw)
        await settled(gw)
        judged_by = [(r["trigger"]["id"], r["rule"]) for r in runs(gw)]
        assert judged_by == [(first.id, "verify-intrusion"), (second.id, "verify-intrusion-v2")]
        audit = gw.journal.reader.query(Filter.build(types=["audit"]), limit=100)
        detail = audit[-1].model.detail  # type: ignore[union-attr]
        assert detail["rules_reloaded"] is True and detail["rules"] == 1
        # Reloading the same rules leaves the running engine alone.
        engine = gw.rules
        await gw.reload(load_config(cfg, gw.installed.classes))
        assert gw.rules is engine
    finally:
        await gw.stop()


async def test_removing_every_rule_stops_the_engine(tmp_path: Path) -> None:
    gw = await started(tmp_path, BEFORE)
    try:
        cfg = tmp_path / "anfang.yaml"
        cfg.write_text(BASE)
        await gw.reload(load_config(cfg, gw.installed.classes))
        assert gw.rules is None
        await emit(gw, "intrusion")
        assert runs(gw) == []
    finally:
        await gw.stop()
