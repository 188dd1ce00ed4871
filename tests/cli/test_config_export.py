"""API edits against the YAML: ``anfang check`` warns, ``anfang config export`` folds them in."""

from __future__ import annotations

from pathlib import Path

import yaml

from gateway.registry.statedb import StateDB
from tests.cli.helpers import anfang

CONFIG = """\
site: {id: hq}
areas: [{name: vault}, {name: lobby}]
devices:
  - {address: hq/panel-1/zone-2, name: Old name, area: lobby}
plugins:
  - {id: demo, plugin: demo, config: {interval_s: "${DEMO_INTERVAL:-2.0}"}}
"""


def test_edits_are_reported_and_exported_without_expanding_secrets(tmp_path: Path) -> None:
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(CONFIG)
    data = tmp_path / "data"
    data.mkdir()
    db = StateDB(data / "state.sqlite3")
    db.put("override", "hq/panel-1/zone-2", {"name": "Vault door", "area": "vault"})
    db.put("override", "hq/cam-1", {"location": "back office"})
    db.close()

    check = anfang("check", "-c", cfg, "--data-dir", data)
    assert check.returncode == 0
    assert "devices[0].name: edited through the API to 'Vault door'" in check.stderr
    assert "devices[0].area" in check.stderr and "hq/cam-1 location" in check.stderr

    exported = anfang("config", "export", "-c", cfg, "--data-dir", data)
    assert exported.returncode == 0, exported.stderr
    doc = yaml.safe_load(exported.stdout)
    assert doc["devices"] == [
        {"address": "hq/panel-1/zone-2", "name": "Vault door", "area": "vault"},
        {"address": "hq/cam-1", "location": "back office"},
    ]
    assert doc["plugins"][0]["config"]["interval_s"] == "${DEMO_INTERVAL:-2.0}"
    out = tmp_path / "effective.yaml"
    assert anfang("config", "export", "-c", cfg, "--data-dir", data, "-o", out).returncode == 0
    assert anfang("check", "-c", out, "--data-dir", data).stderr == "", "nothing left to warn"


def test_edits_of_another_site_are_left_out_and_said_once(tmp_path: Path) -> None:
    """Checked against another gateway's data directory (the demo's, by default), a config
    used to be warned about that site's edits one by one, and export folded them in."""
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(CONFIG)
    data = tmp_path / "data"
    data.mkdir()
    db = StateDB(data / "state.sqlite3")
    db.put("override", "branch-01/panel-1/zone-3", {"name": "Teller 2 hold-up"})
    db.put("override", "hq/cam-1", {"location": "back office"})
    db.close()

    check = anfang("check", "-c", cfg, "--data-dir", data)
    assert check.returncode == 0
    warnings = check.stderr.strip().splitlines()
    assert len(warnings) == 2, warnings
    assert "API edits for site 'branch-01', not 'hq'" in warnings[0]
    assert "hq/cam-1 location" in warnings[1]
    assert "zone-3" not in check.stderr

    exported = anfang("config", "export", "-c", cfg, "--data-dir", data)
    assert exported.returncode == 0, exported.stderr
    assert "API edits for site 'branch-01'" in exported.stderr
    addresses = [d["address"] for d in yaml.safe_load(exported.stdout)["devices"]]
    assert addresses == ["hq/panel-1/zone-2", "hq/cam-1"]
