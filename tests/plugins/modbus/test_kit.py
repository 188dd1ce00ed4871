"""The plugin passes the conformance kit (the same checks as ``anfang conformance modbus``), and
``anfang decode modbus-rtu/modbus-tcp --hex`` finds the codecs through the plugin's declaration."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from plugins.modbus.plugin import ModbusPlugin
from tests.conftest import PYTHON, REPO, python_env


async def test_passes_the_kit(anfang_conformance: Any) -> None:
    report = await anfang_conformance(ModbusPlugin)
    assert report.ok, report.render()


def _decode(codec: str, lines: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [PYTHON, "-m", "gateway.cli", "decode", codec, "--hex"],
        input=lines,
        capture_output=True,
        text=True,
        env=python_env(),
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_anfang_decode_rtu_and_tcp() -> None:
    rtu = _decode("modbus-rtu", "1103007c00020743\n11 83 02 c1 34\n1103007c00020744\n")
    assert rtu[0]["message"]["unit"] == 17 and rtu[0]["message"]["address"] == 0x7C
    assert rtu[1]["message"]["exception"] == "illegal data address"
    assert rtu[2] == {"error": "bad CRC: frame carries 4407, computed 4307"}
    tcp = _decode("modbus-tcp", "0c0500000007110304008d008e\n0c05000000071103\n")
    assert tcp[0]["message"]["registers"] == [141, 142]
    assert tcp[0]["message"]["transaction_id"] == 0x0C05
    assert "MBAP length" in tcp[1]["error"]
