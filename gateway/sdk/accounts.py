"""Panel accounts, as every alarm receiver sees them (DC-09 over IP, a hardware receiver's line).

A receiver serving many premises maps each account to its site; an account nobody configured is
still an alarm and is journaled under ``<site>/unknown-<account>`` (docs/DESIGN: never drop it).
The same rules must hold whichever receiver heard the panel, so they live here once.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from gateway.model.address import SEGMENT_PATTERN
from gateway.sdk.codec import DecodeContext

if TYPE_CHECKING:  # the registry imports the SDK's clock; import it for typing only
    from gateway.registry.registry import Registry


ACCOUNT_PATTERN = r"^[0-9A-Fa-f]{3,16}$"
"""A panel account as SIA DC-09 and the receivers' line formats carry it: 3-16 hex digits."""


class PanelAccountConfig(BaseModel):
    """One configured account; receivers add their own keys (an AES key, a time zone ...)."""

    model_config = ConfigDict(extra="forbid")

    account: str = Field(pattern=ACCOUNT_PATTERN, description="the panel's account (3-16 hex)")
    name: str | None = Field(default=None, description="what the panel is called in the registry")
    site: str | None = Field(
        default=None,
        pattern=f"^{SEGMENT_PATTERN}$",
        description="site of this premises (one receiver serves many); default: the gateway's",
    )


def account_device(site: str, account: str, known: bool) -> str:
    """The registry address of the panel behind ``account``."""
    return f"{site}/{'acct' if known else 'unknown'}-{account}"


def account_decode_context(site: str, device: str, known: bool, now: datetime) -> DecodeContext:
    """How a codec addresses what the panel reports: by the default rule for a configured
    account, and everything under the ``unknown-`` device for one nobody configured."""
    if known:
        return DecodeContext(site=site, now=now)

    def unknown(_device: str, point: str | None) -> str:
        return f"{device}/{point}" if point else device

    return DecodeContext(site=site, now=now, addresser=unknown)


def ensure_panel_area(registry: Registry, seen: set[str], device: str, number: str) -> None:
    """Register area ``number`` of panel ``device`` the first time it is reported (``seen``
    remembers which were done, so a busy panel costs one set lookup).

    Areas live under the gateway's site, so a panel of an account mapped to another site
    (``branch-01/acct-1234`` on gateway ``branch``) names its areas with that site too:
    without it, the same account number on two sites shared one area, its arming state and
    its latched zones."""
    key = f"{device}#{number}"
    if key in seen:
        return
    if registry.area_of(device, number) is None:
        site, panel = device.split("/")[:2]
        prefix = panel if site == registry.site else f"{site}-{panel}"
        registry.upsert_area(f"{prefix}-area-{number}", device=device, local_id=number)
    seen.add(key)
