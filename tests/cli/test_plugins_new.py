"""``anfang plugins new``: what it writes installs, is listed, lints and passes its own tests.

The generated package is installed with pip into a throwaway ``--target`` directory (never into
the project's venv) and put on PYTHONPATH, the way an integrator's ``pip install`` would add it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.cli.helpers import anfang, assert_clean_error
from tests.conftest import PYTHON, REPO, python_env

NAME = "acme_fire"
PACKAGE = f"anfang_plugin_{NAME}"
FILES = {
    "pyproject.toml",
    "README.md",
    "tests/test_codec.py",
    "tests/test_plugin.py",
    *(
        f"{PACKAGE}/{name}"
        for name in (
            "__init__.py",
            "codec.py",
            "errors.py",
            "mapping.py",
            "plugin.py",
            "transport.py",
            "vectors.json",
            "py.typed",
        )
    ),
}
RUFF = str(Path(PYTHON).with_name("ruff"))
MYPY = str(Path(PYTHON).with_name("mypy"))


def _builds_wheels_offline() -> bool:
    """setuptools builds wheels by itself from 70.1 on; before that it needs ``wheel``."""
    if importlib.util.find_spec("wheel") is not None:
        return True
    major, minor = (int(part) for part in version("setuptools").split(".")[:2])
    return (major, minor) >= (70, 1)


def install_into(source: Path, site: Path) -> None:
    """``pip install --no-deps --target site source``: the package only, the venv untouched.

    Without a wheel-capable setuptools here, pip builds in isolation (fetching setuptools).
    """
    isolation = ["--no-build-isolation"] if _builds_wheels_offline() else []
    pip = [PYTHON, "-m", "pip", "install", "--quiet", "--no-deps", *isolation]
    result = subprocess.run(
        [*pip, "--target", str(site), str(source)],
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr


def env_with(site: Path) -> dict[str, str]:
    """PYTHONPATH with the install target first, as a site-packages directory would be."""
    return {"PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}


def run_pytest(tests: list[Path], site: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A distribution's own tests, importing the installed package (not its source tree)."""
    return subprocess.run(
        [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", *map(str, tests)],
        cwd=cwd,
        env={**python_env(), **env_with(site)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def ruff(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RUFF, *args, "--no-cache", "."], cwd=cwd, capture_output=True, text=True)


def mypy_strict(cwd: Path, *targets: str, scratch: Path) -> subprocess.CompletedProcess[str]:
    """mypy as the distribution's own ``pyproject.toml`` sets it (strict, the gateway a typed
    dependency); MYPYPATH because mypy cannot see through an editable install's import hook."""
    cache = scratch / "mypy-cache"
    return subprocess.run(
        [MYPY, "--cache-dir", str(cache), *targets],
        cwd=cwd,
        env={**os.environ, "MYPYPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def generate(name: str, target: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return anfang("plugins", "new", name, "--dir", target, *extra)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("gen") / "acme"
    result = generate(NAME, target)
    assert result.returncode == 0, result.stderr
    assert "anfang-plugin-acme-fire" in result.stdout
    return target


def test_writes_a_complete_distribution(generated: Path) -> None:
    written = {str(p.relative_to(generated)) for p in generated.rglob("*") if p.is_file()}
    assert written == FILES
    for relative in FILES:
        assert "{{" not in (generated / relative).read_text(), relative
    pyproject = (generated / "pyproject.toml").read_text()
    assert 'name = "anfang-plugin-acme-fire"' in pyproject
    assert f'{NAME} = "{PACKAGE}.plugin:AcmeFirePlugin"' in pyproject
    assert json.loads((generated / PACKAGE / "vectors.json").read_text())["codec"] == "acme-fire"


@pytest.mark.parametrize("name", ["Acme", "1acme", "a", "acme-fire", "x" * 32, "acme fire"])
def test_refuses_a_bad_name_in_one_line(tmp_path: Path, name: str) -> None:
    result = generate(name, tmp_path / "out")
    assert_clean_error(result, 2)
    assert result.stderr.count("\n") == 1 and "lower-case" in result.stderr
    assert not (tmp_path / "out").exists()


def test_refuses_a_non_empty_directory_unless_forced(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    refused = generate("acme", target)
    assert_clean_error(refused, 2)
    assert refused.stderr.count("\n") == 1 and "--force" in refused.stderr
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    forced = generate("acme", target, "--force")
    assert forced.returncode == 0, forced.stderr
    assert (target / "anfang_plugin_acme" / "plugin.py").is_file()
    assert (target / "notes.txt").read_text() == "mine"
    not_a_dir = generate("acme", target / "notes.txt")
    assert_clean_error(not_a_dir, 2)


@pytest.mark.slow
def test_generated_code_is_ruff_clean_and_mypy_strict(generated: Path, tmp_path: Path) -> None:
    for args in (["check", "--isolated"], ["check"], ["format", "--check"]):
        lint = ruff(generated, *args)  # default rules, then its own (the project's) settings
        assert lint.returncode == 0, (args, lint.stdout)
    longest = tmp_path / "longest"
    assert generate("a" * 15 + "_" + "b" * 15, longest).returncode == 0
    lint = ruff(longest, "check", "--isolated")
    assert lint.returncode == 0, lint.stdout
    assert "strict = true" in (generated / "pyproject.toml").read_text()
    typed = mypy_strict(generated, PACKAGE, "tests", scratch=tmp_path)
    assert typed.returncode == 0, typed.stdout


@pytest.mark.slow
def test_installed_plugin_is_listed_decodes_and_passes_its_own_tests(
    generated: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    install_into(generated, site)
    listed = anfang("plugins", "--json", env=env_with(site))
    assert listed.returncode == 0, listed.stderr
    doc = json.loads(listed.stdout)
    (plugin,) = [p for p in doc["plugins"] if p["name"] == NAME]
    assert plugin["version"] == "0.1.0"
    assert plugin["protocols"] == ["acme-fire-tcp"]
    assert plugin["distribution"] == "anfang-plugin-acme-fire 0.1.0"
    assert not doc["errors"]
    decoded = anfang("decode", "acme-fire", stdin="17,1234,intrusion,alarm,5\n", env=env_with(site))
    assert decoded.returncode == 0, decoded.stderr
    (event,) = json.loads(decoded.stdout)["events"]
    assert (event["kind"], event["source"]) == ("intrusion", "site/acct-1234/zone-5")
    clash = tmp_path / "clash.yaml"  # the template says where it listens: a clash is caught
    clash.write_text(
        "site: {id: hq}\napi: {port: 18099}\n"
        f"plugins: [{{id: fire, plugin: {NAME}, config: {{port: 18099}}}}]\n"
    )
    checked = anfang("check", "-c", clash, env=env_with(site))
    assert checked.returncode == 2, checked.stdout
    assert "TCP port 18099 on 127.0.0.1 is already taken by api.port" in checked.stderr
    tests = run_pytest(sorted((generated / "tests").glob("test_*.py")), site, tmp_path)
    assert tests.returncode == 0, tests.stdout[-4000:]
    assert " passed" in tests.stdout and " failed" not in tests.stdout
