"""The event-kind taxonomy: one core table, plus namespaced kinds that plugins register.

A kind names a *condition* (``intrusion``, ``trouble.ac_loss``), never a transition: whether the
condition starts, ends or is merely reported is the event's phase. Each kind carries a default
priority (1 highest .. 4) and the phases it may take, so the conformance kit, the rules engine and
the docs all read one table (``docs/event-kinds.md`` is generated from it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    """Where in a condition's life an event sits."""

    ALARM = "alarm"  # a condition starts
    RESTORE = "restore"  # the same condition ends
    STATUS = "status"  # a state report (arming, door opened, condition still present)
    MOMENTARY = "momentary"  # a one-off (access granted, test report)


KIND_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
_KIND = re.compile(KIND_PATTERN)

CONDITION = frozenset({Phase.ALARM, Phase.RESTORE, Phase.STATUS})
STATE = frozenset({Phase.STATUS})
ONE_OFF = frozenset({Phase.MOMENTARY})


class KindError(ValueError):
    """A kind that is malformed, unknown, or registered in the wrong namespace."""


@dataclass(frozen=True, slots=True)
class KindSpec:
    """One row of the kind table."""

    name: str
    description: str
    priority: int
    phases: frozenset[Phase]
    owner: str = "core"

    def __post_init__(self) -> None:
        if not _KIND.fullmatch(self.name):
            raise KindError(
                f"kind {self.name!r} must be lower-case dotted words (e.g. 'trouble.ac_loss')"
            )
        if not 1 <= self.priority <= 4:
            raise KindError(f"kind {self.name!r}: priority {self.priority} must be 1..4")
        if not self.phases:
            raise KindError(f"kind {self.name!r} must allow at least one phase")


def _k(name: str, priority: int, phases: frozenset[Phase], description: str) -> KindSpec:
    return KindSpec(name, description, priority, phases)


CORE_KINDS: tuple[KindSpec, ...] = (
    # life safety and intrusion (24-hour conditions carry priority 1)
    _k("intrusion", 2, CONDITION, "Burglary / intrusion detected in an armed zone"),
    _k("intrusion.perimeter", 2, CONDITION, "Perimeter (fence, window, exit door) violated"),
    _k("intrusion.verified", 1, CONDITION, "Intrusion confirmed by a second sensor or video"),
    _k("panic", 1, CONDITION, "Personal attack / panic button"),
    _k("panic.holdup", 1, CONDITION, "Hold-up (robbery) alarm, normally silent"),
    _k("panic.duress", 1, CONDITION, "Duress code or duress card used"),
    _k("panic.silent", 1, CONDITION, "Silent panic"),
    _k("fire", 1, CONDITION, "Fire alarm (smoke, heat, flame, manual call point)"),
    _k("medical", 1, CONDITION, "Medical emergency"),
    _k("gas", 1, CONDITION, "Gas detected (including carbon monoxide)"),
    _k("water", 2, CONDITION, "Water leak or flood"),
    _k("environmental", 3, CONDITION, "Temperature, humidity or other environmental limit"),
    _k("tamper", 2, CONDITION, "Tamper of a sensor, enclosure, bus or panel"),
    _k("supervisory", 3, CONDITION, "Supervisory condition (e.g. sprinkler valve, fire pump)"),
    # troubles
    _k("trouble", 3, CONDITION, "Trouble not covered by a more specific kind"),
    _k("trouble.ac_loss", 3, CONDITION, "Mains (AC) power lost at the device"),
    _k("trouble.battery_low", 3, CONDITION, "Device standby battery low or missing"),
    _k("trouble.comm_fail", 2, CONDITION, "The device itself reports a communication failure"),
    _k("trouble.sensor", 3, CONDITION, "Sensor, zone or detector trouble"),
    _k("trouble.output", 3, CONDITION, "Output, siren or relay circuit trouble"),
    _k("trouble.system", 3, CONDITION, "Panel or system trouble (RAM, ROM, bus, ground fault)"),
    # arming and bypass (status)
    _k("arming.armed", 4, STATE, "Area armed (data.mode: away or stay)"),
    _k("arming.disarmed", 4, STATE, "Area disarmed"),
    _k("arming.fail", 3, ONE_OFF | CONDITION, "Arming failed or was late / early"),
    _k("zone.bypassed", 4, STATE, "Zone bypassed (isolated)"),
    _k("zone.unbypassed", 4, STATE, "Zone bypass removed"),
    # access control
    _k("access.granted", 4, ONE_OFF, "Credential accepted at a reader"),
    _k("access.denied", 3, ONE_OFF, "Credential refused at a reader"),
    _k("door.forced", 2, CONDITION, "Door opened without a grant"),
    _k("door.held_open", 3, CONDITION, "Door held open too long"),
    _k("door.opened", 4, STATE, "Door opened"),
    _k("door.closed", 4, STATE, "Door closed"),
    _k("door.locked", 4, STATE, "Door locked"),
    _k("door.unlocked", 4, STATE, "Door unlocked"),
    # video
    _k("video.motion", 3, CONDITION, "Motion detected by a camera"),
    _k("video.tamper", 2, CONDITION, "Camera tamper (covered, moved, defocused)"),
    _k("video.signal_loss", 2, CONDITION, "Video signal lost"),
    # power
    _k("power.on_battery", 2, CONDITION, "UPS / power supply running on battery"),
    _k("power.battery_low", 2, CONDITION, "UPS battery low"),
    _k("power.overload", 2, CONDITION, "UPS / power supply overloaded"),
    # devices, gateway and tests
    _k("device.offline", 2, CONDITION, "Device not heard from within its supervision interval"),
    _k("device.clock_skew", 3, CONDITION, "Device clock differs from the gateway beyond limits"),
    _k("plugin.fault", 2, CONDITION, "A plugin instance failed and is being restarted"),
    _k("gateway.loop_blocked", 3, ONE_OFF, "The event loop was blocked; data names the culprit"),
    _k("journal.fault", 1, CONDITION, "Journal writes failed (disk full, I/O error)"),
    _k("journal.tamper", 1, CONDITION, "Journal chain does not match its anchor"),
    _k("gateway.started", 4, ONE_OFF, "The gateway process started"),
    _k("gateway.stopped", 4, ONE_OFF, "The gateway process stopped cleanly"),
    # incidents: how an alarm is handled to the end (gateway/incidents)
    _k("incident.opened", 2, ONE_OFF, "An incident was opened for an alarm"),
    _k("incident.acknowledged", 4, ONE_OFF, "An operator acknowledged an incident"),
    _k("incident.escalated", 1, ONE_OFF, "An incident was not acknowledged in time"),
    _k("incident.noted", 4, ONE_OFF, "An operator or rule added a note to an incident"),
    _k("incident.police_receipt", 4, ONE_OFF, "The police confirmed receipt of an alarm report"),
    _k("incident.restored", 4, ONE_OFF, "The alarm behind an incident was restored"),
    _k("incident.closed", 4, ONE_OFF, "An incident was closed"),
    # notifications (delivered by notifier plugins, from the journal)
    _k("notify.request", 4, ONE_OFF, "A notification to deliver over a notifier channel"),
    _k("notify.result", 4, ONE_OFF, "What became of a notification: delivered or failed"),
    _k("test.periodic", 4, ONE_OFF, "Periodic test report / link test"),
    _k("test.manual", 4, ONE_OFF, "Test report started by a person"),
)


class KindRegistry:
    """The kinds known to this process: the core table plus what plugins registered."""

    def __init__(self, specs: Iterable[KindSpec] = CORE_KINDS) -> None:
        self._specs: dict[str, KindSpec] = {}
        for spec in specs:
            self._add(spec)
        self._core_roots = {name.split(".")[0] for name in self._specs}

    def _add(self, spec: KindSpec) -> None:
        existing = self._specs.get(spec.name)
        if existing is not None and existing != spec:
            raise KindError(f"kind {spec.name!r} is already registered by {existing.owner}")
        self._specs[spec.name] = spec

    def register(self, namespace: str, spec: KindSpec) -> KindSpec:
        """Add a plugin's kind; it must live under ``<namespace>.`` and not under a core root."""
        if not re.fullmatch(r"[a-z][a-z0-9_]*", namespace):
            raise KindError(f"namespace {namespace!r} must be a lower-case word")
        if namespace in self._core_roots:
            raise KindError(f"namespace {namespace!r} is a core kind root; choose another")
        if not spec.name.startswith(namespace + "."):
            raise KindError(
                f"kind {spec.name!r} registered by {namespace!r} must start with '{namespace}.'"
            )
        owned = KindSpec(spec.name, spec.description, spec.priority, spec.phases, namespace)
        self._add(owned)
        return owned

    def get(self, name: str) -> KindSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise KindError(
                f"kind {name!r} is not registered (core kinds are listed in "
                "docs/event-kinds.md; a plugin registers its own under its namespace)"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[KindSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._specs)

    def check(self, name: str, phase: Phase | str) -> KindSpec:
        """The spec for ``name`` if ``phase`` is allowed for it; KindError otherwise."""
        spec = self.get(name)
        if Phase(phase) not in spec.phases:
            allowed = ", ".join(sorted(p.value for p in spec.phases))
            raise KindError(f"kind {name!r} does not take phase {phase!s} (allowed: {allowed})")
        return spec


def render_markdown(registry: KindRegistry) -> str:
    """The kind table as Markdown (``docs/event-kinds.md``)."""
    lines = [
        "# Event kinds",
        "",
        "Generated from `gateway/model/kinds.py` by `python -m gateway.model.docgen`;"
        " do not edit by hand.",
        "A kind names a condition; the event's phase says whether it starts (`alarm`), ends"
        " (`restore`), is reported (`status`) or is a one-off (`momentary`). Priority 1 is the"
        " highest. Plugins add kinds under their own namespace (e.g. `onvif.line_crossing`).",
        "",
        "| kind | priority | phases | owner | description |",
        "|---|---|---|---|---|",
    ]
    for spec in registry:
        phases = ", ".join(sorted(p.value for p in spec.phases))
        lines.append(
            f"| `{spec.name}` | {spec.priority} | {phases} | {spec.owner} | {spec.description} |"
        )
    return "\n".join(lines) + "\n"
