"""Profiles: the shipped ones load; broken ones are refused with the key path of each problem,
in the profile and in ``anfang check``."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from plugins.modbus.loader import ProfileError, load_profile, packaged_profiles, parse_profile
from tests.conftest import PYTHON, REPO, python_env

GOOD: dict[str, Any] = {
    "name": "tiny",
    "points": {
        "status": {"address": 0, "type": "u32", "bits": {2: "on_battery"}},
        "charge": {"address": 2, "scale_exp2": -9, "unit": "%"},
        "relay": {"table": "coil", "address": 0, "type": "bool", "writable": True},
    },
    "alarms": [{"kind": "power.on_battery", "point": "status", "bit": 2}],
}


def test_shipped_profiles_load() -> None:
    assert {"apc_smart_ups", "three_phase_meter"} <= set(packaged_profiles())
    for name in packaged_profiles():
        assert load_profile(name).points


def test_a_good_profile_parses() -> None:
    profile = parse_profile(GOOD, "tiny")
    assert profile.points["status"].size == 2


def _with(path: str, value: Any) -> dict[str, Any]:
    data = yaml.safe_load(yaml.safe_dump(GOOD, sort_keys=False))
    node = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if isinstance(node, list):
        node[int(keys[-1])] = value
    else:
        node[keys[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "where", "says"),
    [
        ("points.charge.address", 1, "points.charge.address", "overlaps points.status"),
        ("points.charge.address", 70000, "points.charge.address", "less than or equal"),
        ("points.charge.type", "u128", "points.charge.type", "Input should be"),
        ("points.name.address", 65535, "points.name.length", "string needs its length"),
        ("points.status.bits", {40: "x"}, "points.status.bits.40", "not in 0..31"),
        ("points.relay.type", "u16", "points.relay.type", "is a bool"),
        ("points.charge.scale", 0.5, "points.charge.scale", "not both"),
        ("points.charge.colour", "red", "points.charge.colour", "unknown key"),
        ("alarms.0.kind", "power.on_fire", "alarms[0].kind", "unknown kind"),
        ("alarms.0.point", "nothing", "alarms[0].point", "no point named"),
        ("alarms.0.bit", 40, "alarms[0].bit", "less than or equal to 31"),
        ("limits.max_registers_per_read", 200, "limits.max_registers_per_read", "125"),
    ],
)
def test_broken_profiles_name_the_key(path: str, value: Any, where: str, says: str) -> None:
    data = _with(path, value)
    if path.startswith("points.name"):
        data["points"]["name"] = {"address": 100, "type": "string"}
    with pytest.raises(ProfileError) as info:
        parse_profile(data, "tiny")
    assert any(i.path == where and says in i.message for i in info.value.issues), info.value


def test_alarm_on_a_bit_the_point_does_not_have() -> None:
    data = _with("alarms.0", {"kind": "power.overload", "point": "charge", "bit": 21})
    with pytest.raises(ProfileError, match=r"alarms\[0\].bit: points.charge \(u16\) has no bit 21"):
        parse_profile(data, "tiny")


def test_anfang_check_reports_profile_problems_with_both_key_paths(tmp_path: Path) -> None:
    broken = _with("points.charge.address", 1)
    (tmp_path / "ups.yaml").write_text(yaml.safe_dump(broken, sort_keys=False))
    inline = _with("points.charge.type", "u128")
    config = {
        "site": {"id": "hq"},
        "plugins": [
            {
                "id": "power",
                "plugin": "modbus",
                "config": {
                    "connections": [{"name": "nmc", "host": "127.0.0.1"}],
                    "devices": [
                        {
                            "name": "ups-1",
                            "connection": "nmc",
                            "unit": 1,
                            "profile": str(tmp_path / "ups.yaml"),
                        },
                        {"name": "ups-2", "connection": "nmc", "unit": 2, "profile": inline},
                        {"name": "ups-3", "connection": "nmc", "unit": 3, "profile": "no_such"},
                    ],
                },
            }
        ],
    }
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(yaml.safe_dump(config, sort_keys=False))
    result = subprocess.run(
        [PYTHON, "-m", "gateway.cli", "check", "-c", str(cfg)],
        capture_output=True,
        text=True,
        env=python_env(),
        cwd=REPO,
        timeout=120,
    )
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "plugins[0].config.devices[0].profile" in out
    assert "points.charge.address: holding 1..1 overlaps points.status (0..1)" in out
    assert "plugins[0].config.devices[1].profile.points.charge.type" in out
    assert "no packaged profile 'no_such'" in out


def test_devices_must_name_a_configured_connection_and_a_free_unit() -> None:
    from pydantic import ValidationError

    from plugins.modbus.config import ModbusConfig

    base = {"connections": [{"name": "nmc", "host": "127.0.0.1"}]}
    device = {"name": "ups-1", "connection": "nmc", "unit": 1, "profile": "apc_smart_ups"}
    other = {**device, "name": "ups-2", "connection": "other"}
    with pytest.raises(ValidationError, match=r"devices\[1\].connection: no connection named"):
        ModbusConfig.model_validate({**base, "devices": [device, other]})
    twice = {**device, "name": "ups-2"}
    with pytest.raises(ValidationError, match=r"devices\[1\].unit: unit 1 is already on nmc"):
        ModbusConfig.model_validate({**base, "devices": [device, twice]})
    with pytest.raises(ValidationError, match="transport rtu needs serial_port"):
        ModbusConfig.model_validate({"connections": [{"name": "bus", "transport": "rtu"}]})
