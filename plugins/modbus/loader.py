"""Finding and validating profiles: packaged ones by name, an installer's by path.

Every problem carries its key path inside the profile (``points.status.address``) and the
profile's source, so a config error reads ``devices[0].profile: apc_smart_ups.yaml:
points.status.address: ...``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from plugins.modbus.kinds import known_kinds
from plugins.modbus.profile import Issue, Profile, check_profile, issue_paths

PROFILE_DIR = Path(__file__).parent / "profiles"
_BY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_cache: dict[tuple[str, float], Profile] = {}


class ProfileError(ValueError):
    """A profile that cannot be used; ``issues`` lists every problem with its key path."""

    def __init__(self, source: str, issues: list[Issue]) -> None:
        self.source = source
        self.issues = issues
        super().__init__(f"profile {source}: " + "; ".join(str(i) for i in issues))


def packaged_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def profile_path(ref: str) -> Path:
    """A bare name is a packaged profile; anything else is a path to a YAML file."""
    if _BY_NAME.fullmatch(ref):
        path = PROFILE_DIR / f"{ref}.yaml"
        if not path.is_file():
            known = ", ".join(packaged_profiles())
            raise ProfileError(ref, [Issue("", f"no packaged profile {ref!r} (have: {known})")])
        return path
    return Path(ref).expanduser()


def load_profile(ref: str) -> Profile:
    path = profile_path(ref)
    try:
        mtime = path.stat().st_mtime
        key = (str(path.resolve()), mtime)
        if key in _cache:
            return _cache[key]
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(ref, [Issue("", f"cannot read {path}: {exc.strerror}")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise ProfileError(ref, [Issue("", f"{where}not valid YAML")]) from None
    profile = parse_profile(data, ref)
    _cache[key] = profile
    return profile


def parse_profile(data: Any, source: str) -> Profile:
    if not isinstance(data, dict):
        raise ProfileError(source, [Issue("", "a profile is a mapping of keys")])
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        issues = [Issue(issue_paths(tuple(e["loc"])), _message(e)) for e in exc.errors()]
        raise ProfileError(source, issues) from None
    issues = check_profile(profile, known_kinds())
    if issues:
        raise ProfileError(source, issues)
    return profile


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key (check the spelling)"
    if error["type"] == "missing":
        return "required key is missing"
    return str(error["msg"])
