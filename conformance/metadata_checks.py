"""Static checks: what a plugin declares, and its config schema."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ValidationError

from conformance.report import Report
from gateway.model.common import ACTION_PATTERN
from gateway.sdk.plugin import Plugin

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
VERSION = re.compile(r"^\d+(\.\d+){1,2}([a-z]+\d*)?$")


def check_metadata(cls: type[Plugin[Any]], report: Report) -> None:
    missing = []
    if not NAME.fullmatch(getattr(cls, "name", "") or ""):
        missing.append("name (lower-case identifier)")
    if not VERSION.fullmatch(cls.version) or cls.version == "0.0.0":
        missing.append(f"version (got {cls.version!r}; set a real release number)")
    if not cls.description.strip():
        missing.append("description")
    if not cls.protocols:
        missing.append("protocols")
    bad_actions = [a for a in cls.actions if not re.fullmatch(ACTION_PATTERN, a)]
    if bad_actions:
        missing.append(f"actions named like 'camera.goto_preset' (got {bad_actions})")
    report.add(
        "metadata.complete",
        not missing,
        "missing or wrong: " + ", ".join(missing) if missing else "",
    )


def check_config_schema(cls: type[Plugin[Any]], report: Report) -> BaseModel | None:
    """The schema is valid and every setting documented; the example config validates."""
    config_cls = cls.Config
    problems = []
    if not (isinstance(config_cls, type) and issubclass(config_cls, BaseModel)):
        report.add("config.schema", False, "Config must be a pydantic model")
        return None
    try:
        schema = config_cls.model_json_schema()
    except Exception as exc:
        report.add("config.schema", False, f"no JSON schema: {exc}")
        return None
    undocumented = [
        name for name, prop in schema.get("properties", {}).items() if not prop.get("description")
    ]
    if undocumented:
        problems.append(f"settings without a description: {', '.join(undocumented)}")
    if config_cls.model_config.get("extra") != "forbid":
        problems.append("Config should set extra='forbid' so a misspelt key is an error")
    report.add(
        "config.schema",
        not problems,
        "; ".join(problems),
        settings=len(schema.get("properties", {})),
    )
    try:
        config = config_cls.model_validate(cls.conformance.example_config)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        report.add(
            "config.example",
            False,
            f"ConformanceSpec.example_config does not validate: {where}: {first['msg']}",
        )
        return None
    report.add("config.example", True)
    return config
