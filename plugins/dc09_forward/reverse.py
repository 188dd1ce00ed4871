"""The receiver's code tables read backwards: which SIA or Contact ID code reports a kind.

The receiver maps many codes onto one canonical (kind, phase) — BA, BG and EA are all
``intrusion``/``alarm`` — so going back needs one code per pair. It is chosen by rule, so the
table follows the receiver's data (``plugins/sia_dc09/sia/codes.json``,
``plugins/contact_id/codes.json``) without a second copy to keep in step:

1. a hand-picked code where the rule below would pick a correct but unusual one
   (:data:`SIA_PREFERRED`, :data:`CID_PREFERRED`: CL/OP over CA/NO for arming, RX over BX);
2. otherwise a code whose mapping needed no judgement (no ``reason`` in the table), then one
   whose address names a zone (so the zone survives the trip), then the qualifier that means
   the phase (Contact ID 1 alarm, 3 restore, 6 status), then the lowest code.

A pair with no code of its own is looked up as a close core kind (:data:`ALIASES`:
``device.offline`` travels as a communication trouble) and then as its parent kind
(``intrusion.perimeter`` → ``intrusion`` in SIA, which has no perimeter code). What is still
without a code is :mod:`plugins.dc09_forward.encode`'s decision (general alarm or skip).
``python -m plugins.dc09_forward.reverse`` prints the whole table for the docs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from gateway.model.kinds import Phase
from plugins.contact_id import codes as cid_codes
from plugins.sia_dc09.sia import codes as sia_codes

SIA_PREFERRED: Mapping[tuple[str, Phase], str] = MappingProxyType(
    {
        ("arming.armed", Phase.STATUS): "CL",  # closing by a user: what panels send (not CA)
        ("arming.disarmed", Phase.STATUS): "OP",
        ("test.manual", Phase.MOMENTARY): "RX",  # "Manual Test", not a burglary-zone test (BX)
        ("trouble.battery_low", Phase.ALARM): "YT",  # the system battery, not a transmitter's
        ("trouble.battery_low", Phase.RESTORE): "YR",
        ("trouble.comm_fail", Phase.ALARM): "YC",  # "Communications Fail", not phone line (LT)
        ("trouble.comm_fail", Phase.RESTORE): "YK",
        ("trouble.sensor", Phase.ALARM): "UT",  # untyped zone trouble, not burglary (BT)
        ("trouble.sensor", Phase.RESTORE): "UJ",
        ("supervisory", Phase.ALARM): "US",  # untyped zone supervisory
        ("supervisory", Phase.RESTORE): "UR",
    }
)
"""SIA codes chosen by hand; each must map back to the same pair (a test checks)."""

CID_PREFERRED: Mapping[tuple[str, Phase], tuple[str, str]] = MappingProxyType(
    {
        ("arming.armed", Phase.STATUS): ("401", "3"),  # open/close by user (400 is unspecific)
        ("arming.disarmed", Phase.STATUS): ("401", "1"),
    }
)
"""Contact ID (code, qualifier) chosen by hand; each must map back to the same pair."""

ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "device.offline": "trouble.comm_fail",  # a device not heard from: a communication trouble
        "power.on_battery": "trouble.ac_loss",  # a UPS on battery: mains is gone
        "power.battery_low": "trouble.battery_low",
        "video.tamper": "tamper",
        "video.signal_loss": "trouble.sensor",
    }
)
"""Core kinds no code table names, reported as the closest kind that has codes."""

_PHASE_QUALIFIER = {Phase.ALARM: "1", Phase.RESTORE: "3", Phase.STATUS: "6", Phase.MOMENTARY: "1"}


@dataclass(frozen=True, slots=True)
class SiaChoice:
    code: str
    address: str
    """What the code's address digits name: zone, user, area or none."""
    via: str
    """How it was found: ``table``, ``preferred``, ``alias <kind>``, ``parent <kind>``."""


@dataclass(frozen=True, slots=True)
class CidChoice:
    code: str
    qualifier: str
    ccc_is: str
    """Whether CCC carries the zone or the user."""
    via: str


@functools.cache
def _sia_table() -> dict[tuple[str, Phase], SiaChoice]:
    candidates: dict[tuple[str, Phase], list[sia_codes.CodeSpec]] = {}
    for spec in sia_codes.CODES.values():
        candidates.setdefault((spec.kind, spec.phase), []).append(spec)
    out = {}
    for pair, specs in candidates.items():
        preferred = SIA_PREFERRED.get(pair)
        if preferred is not None:
            spec = sia_codes.CODES[preferred]
            out[pair] = SiaChoice(spec.code, spec.address, "preferred")
            continue
        best = min(specs, key=lambda s: (s.reason is not None, s.address != "zone", s.code))
        out[pair] = SiaChoice(best.code, best.address, "table")
    return out


@functools.cache
def _cid_table() -> dict[tuple[str, Phase], CidChoice]:
    candidates: dict[tuple[str, Phase], list[tuple[tuple[bool, bool, str], CidChoice]]] = {}
    for spec in cid_codes.CODES.values():
        for qualifier, kind in spec.kinds.items():
            phase = spec.phase_for(qualifier)
            rank = (spec.reason is not None, qualifier != _PHASE_QUALIFIER[phase], spec.code)
            choice = CidChoice(spec.code, qualifier, spec.ccc_is, "table")
            candidates.setdefault((kind, phase), []).append((rank, choice))
    out = {}
    for pair, ranked in candidates.items():
        preferred = CID_PREFERRED.get(pair)
        if preferred is not None:
            code, qualifier = preferred
            out[pair] = CidChoice(code, qualifier, cid_codes.CODES[code].ccc_is, "preferred")
            continue
        out[pair] = min(ranked, key=lambda item: item[0])[1]
    return out


def _lookups(kind: str) -> Iterator[tuple[str, str]]:
    """The kinds to try, in order, with how each was reached."""
    yield kind, ""
    alias = ALIASES.get(kind)
    if alias is not None:
        yield alias, f"alias {alias}"
    parts = kind.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        parent = ".".join(parts[:cut])
        yield parent, f"parent {parent}"


def sia_for(kind: str, phase: Phase) -> SiaChoice | None:
    """The SIA code reporting ``kind`` in ``phase``, or None when no table entry fits."""
    table = _sia_table()
    for candidate, via in _lookups(kind):
        found = table.get((candidate, phase))
        if found is not None:
            return SiaChoice(found.code, found.address, via or found.via) if via else found
    return None


def cid_for(kind: str, phase: Phase) -> CidChoice | None:
    """The Contact ID code and qualifier reporting ``kind`` in ``phase``, or None."""
    table = _cid_table()
    for candidate, via in _lookups(kind):
        found = table.get((candidate, phase))
        if found is not None:
            if via:
                return CidChoice(found.code, found.qualifier, found.ccc_is, via)
            return found
    return None
