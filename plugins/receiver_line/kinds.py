"""The kind this plugin adds: receiver lines in a protocol the bridge does not decode."""

from __future__ import annotations

from gateway.model.kinds import CONDITION, KindSpec

NAMESPACE = "receiver_line"

UNSUPPORTED = KindSpec(
    f"{NAMESPACE}.unsupported",
    "A hardware receiver reported a signal in a computer-output protocol this bridge does not "
    "decode (4/2, BFSK, caller id, ...); raw keeps the whole line for the operator",
    2,
    CONDITION,
)
