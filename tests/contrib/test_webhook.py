"""contrib/webhook installs like any third-party plugin, is listed, decodes, and passes its tests.

It is installed with pip into a throwaway ``--target`` directory from a copy of its source (an
in-tree build would leave ``build/`` behind), never into the project's venv.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.helpers import anfang
from tests.cli.test_plugins_new import env_with, install_into, mypy_strict, ruff, run_pytest
from tests.conftest import REPO

SOURCE = REPO / "contrib" / "webhook"
BODY = '{"account": "1234", "kind": "intrusion", "phase": "alarm", "zone": "5"}'


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(copy of the source, install target)."""
    root = tmp_path_factory.mktemp("webhook")
    source = root / "src"
    shutil.copytree(
        SOURCE,
        source,
        ignore=shutil.ignore_patterns(
            "__pycache__", ".*_cache", ".hypothesis", "build", "*.egg-info"
        ),
    )
    site = root / "site"
    install_into(source, site)
    return source, site


@pytest.mark.slow
def test_is_listed_with_its_version_and_protocol(installed: tuple[Path, Path]) -> None:
    _, site = installed
    listed = anfang("plugins", "--json", env=env_with(site))
    assert listed.returncode == 0, listed.stderr
    doc = json.loads(listed.stdout)
    (plugin,) = [p for p in doc["plugins"] if p["name"] == "webhook"]
    assert plugin["version"] == "0.1.0"
    assert plugin["protocols"] == ["webhook-json"]
    assert plugin["distribution"] == "anfang-plugin-webhook 0.1.0"
    assert "secret" in plugin["config_schema"]["required"]
    assert not doc["errors"]


@pytest.mark.slow
def test_anfang_decode_reads_a_body(installed: tuple[Path, Path]) -> None:
    _, site = installed
    decoded = anfang("decode", "webhook-json", stdin=BODY + "\n[1]\n", env=env_with(site))
    assert decoded.returncode == 0, decoded.stderr
    good, bad = (json.loads(line) for line in decoded.stdout.splitlines())
    assert good["events"][0]["source"] == "site/acct-1234/zone-5"
    assert "must be a JSON object" in bad["error"]


@pytest.mark.slow
def test_its_own_tests_pass_against_the_installed_package(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    source, site = installed
    tests = run_pytest(sorted((source / "tests").glob("test_*.py")), site, tmp_path)
    assert tests.returncode == 0, tests.stdout[-4000:]
    assert " passed" in tests.stdout and " failed" not in tests.stdout


@pytest.mark.slow
def test_is_ruff_clean_and_mypy_strict(tmp_path: Path) -> None:
    for args in (["check"], ["format", "--check"]):
        lint = ruff(SOURCE, *args)
        assert lint.returncode == 0, (args, lint.stdout)
    typed = mypy_strict(SOURCE, "anfang_plugin_webhook", "tests", scratch=tmp_path)
    assert typed.returncode == 0, typed.stdout
