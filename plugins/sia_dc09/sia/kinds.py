"""The kind this plugin adds to the core table: reports the DC-03 code table cannot map.

The plugin class registers it (``anfang_event_kinds``) under the ``sia_dc09`` namespace, as
``contact_id.unmapped`` is registered for Contact ID.
"""

from __future__ import annotations

from gateway.model.kinds import CONDITION, KindSpec

NAMESPACE = "sia_dc09"

UNMAPPED = KindSpec(
    f"{NAMESPACE}.unmapped",
    "An SIA event code the DC-03 code table does not list (a vendor code); code, data and raw "
    "keep what was sent",
    2,
    CONDITION,
)
