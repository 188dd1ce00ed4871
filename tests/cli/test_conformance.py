"""``anfang conformance`` as an integrator runs it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import anfang


def test_conformance_of_the_demo_plugin_passes_with_a_report() -> None:
    result = anfang("conformance", "demo", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["plugin"] == "demo" and report["ok"] is True
    names = {c["name"]: c for c in report["checks"]}
    for name in (
        "metadata.complete",
        "config.schema",
        "commands.answer",
        "leaks.tasks",
        "loop.never_blocks",
        "events.kinds",
        "events.utc_times",
        "events.sources",
    ):
        assert names[name]["status"] == "pass", names[name]
    # How many events the demo emits in the run depends on machine load; that the
    # schema check saw some is what matters here.
    assert names["events.schema"]["events"] > 0
    assert "max_lag_ms" in names["loop.never_blocks"]


def test_text_report_and_unknown_plugin() -> None:
    text = anfang("conformance", "demo")
    assert text.returncode == 0
    assert "result: PASSED" in text.stdout and "loop.never_blocks" in text.stdout
    unknown = anfang("conformance", "nosuch")
    assert unknown.returncode == 2
    assert "no installed plugin named 'nosuch'" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_the_sia_dc09_receiver_passes_the_kit() -> None:
    result = anfang("conformance", "sia_dc09", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["codec.sia-dc09.vectors"]["status"] == "pass"
    assert checks["codec.sia-dc09.fuzz"]["status"] == "pass"
    assert checks["events.schema"]["events"] >= 3, "the kit's panel reported events"


def test_the_mqtt_kit_run_leaves_nothing_in_the_temp_folder(tmp_path: Path) -> None:
    """The kit starts mosquitto from a config in a folder of its own; every run used to leave
    that folder behind."""
    result = anfang("conformance", "mqtt", "--json", env={"TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["ok"] is True
    assert list(tmp_path.iterdir()) == []
