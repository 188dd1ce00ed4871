"""The ``incidents:`` section: alarm classes, their grade, response plan and escalation policy.

GB 50348-2018 §6.4.1 asks for alarms to be classified and graded with a response plan per class,
and §6.5.9(4) for unhandled alarms to be escalated after a set time; §11.2.7 for emergency alarms
reported to the police to carry a receipt confirmation. Each of those is one key of a class here.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.model.kinds import KIND_PATTERN

_RESERVED_ROOTS = ("incident", "notify", "rules")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class NotifyTarget(Strict):
    """A notifier channel (a notifier plugin instance's id) and whom on it."""

    channel: str = Field(min_length=1, max_length=100)
    to: list[str] = Field(default_factory=list, description="empty: the channel's defaults")


class Escalation(Strict):
    repeat_s: float | None = Field(
        default=None, gt=0, description="seconds between repeats (default: ack_within_s)"
    )
    max: int = Field(default=3, ge=1, le=100, description="escalations before giving up")
    notify: list[NotifyTarget] = Field(default_factory=list)


class IncidentClass(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)
    kinds: list[str] = Field(min_length=1, description="kind prefixes, as in rules' when.kind")
    grade: int = Field(ge=1, le=4, description="1 is the most serious")
    plan: str = Field(default="", max_length=4000, description="the response plan, for operators")
    ack_within_s: float | None = Field(
        default=None, gt=0, description="escalate when not acknowledged within this time"
    )
    escalation: Escalation = Field(default_factory=Escalation)
    police: bool = Field(
        default=False, description="reported to the police: closing needs a receipt (§11.2.7)"
    )
    armed_only: bool = Field(
        default=False,
        description="open only when the event's area is not disarmed (intrusion); 24-hour "
        "classes (panic, fire, tamper) leave this false",
    )

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, kinds: list[str]) -> list[str]:
        for kind in kinds:
            if not re.fullmatch(KIND_PATTERN, kind):
                raise ValueError(f"{kind!r} is not a kind (lower-case dotted words)")
            if kind.split(".")[0] in _RESERVED_ROOTS:
                raise ValueError(
                    f"{kind!r}: incidents cannot be opened by the gateway's own records"
                )
        return kinds


def default_classes() -> list[IncidentClass]:
    """What a site gets without an ``incidents:`` section: life safety first, then intrusion,
    then tamper; troubles open no incident (they are maintenance, not alarms)."""
    return [
        IncidentClass(
            name="hold-up",
            kinds=["panic", "medical"],
            grade=1,
            ack_within_s=60,
            police=True,
            plan="Do not call the premises. Verify by video if possible, alert the police, "
            "record the police receipt.",
        ),
        IncidentClass(
            name="fire",
            kinds=["fire", "gas"],
            grade=1,
            ack_within_s=60,
            plan="Call the fire service, confirm the doors of the area are released, "
            "call the keyholder.",
        ),
        IncidentClass(
            name="intrusion",
            kinds=["intrusion"],
            grade=2,
            ack_within_s=120,
            armed_only=True,
            plan="Verify by video, call the keyholder, dispatch a guard or the police.",
        ),
        IncidentClass(
            name="tamper",
            kinds=["tamper", "door.forced", "video.tamper"],
            grade=3,
            ack_within_s=300,
            plan="Check the device by video, send maintenance.",
        ),
    ]


class IncidentsConfig(Strict):
    enabled: bool = True
    classes: list[IncidentClass] = Field(default_factory=default_classes)
    keep_closed_days: float = Field(
        default=30,
        gt=0,
        le=3650,
        description="how long a closed incident stays listed; its whole history stays in the "
        "journal (incident.* events) for the journal's own retention",
    )
    keep_closed_max: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="closed incidents listed at most (the longest closed go first)",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> IncidentsConfig:
        seen: set[str] = set()
        for cls in self.classes:
            if cls.name in seen:
                raise ValueError(f"class name {cls.name!r} is used twice")
            seen.add(cls.name)
        return self

    def get(self, name: str) -> IncidentClass | None:
        return next((c for c in self.classes if c.name == name), None)
