"""The systemd unit in contrib/ is one systemd itself accepts, and keeps its promises."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

from tests.conftest import REPO

UNIT = REPO / "contrib" / "systemd" / "anfang.service"


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    systemd_analyze = shutil.which("systemd-analyze")
    assert systemd_analyze, "systemd-analyze is installed by `make test` (Debian package systemd)"
    anfang = REPO / ".venv" / "bin" / "anfang"
    unit = tmp_path / "anfang.service"
    unit.write_text(UNIT.read_text().replace("/opt/anfang/bin/anfang", str(anfang)))
    result = subprocess.run(
        [systemd_analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", f"systemd warns about the unit:\n{result.stderr}"


def test_unit_runs_unprivileged_with_only_the_low_port_capability() -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    service = parser["Service"]
    assert service["User"] == "anfang" and service["User"] != "root"
    assert service["AmbientCapabilities"] == "CAP_NET_BIND_SERVICE"
    assert service["CapabilityBoundingSet"] == "CAP_NET_BIND_SERVICE"
    assert service["NoNewPrivileges"] == "yes"
    assert "kill -HUP" in service["ExecReload"], "systemctl reload must reach the SIGHUP reload"
    assert "anfang check" in service["ExecStartPre"]
