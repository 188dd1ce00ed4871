"""Config reload: work out which plugin instances changed, so only those are restarted.

An instance is unchanged when its entry (plugin, enabled, isolation, config) and its validated
config are equal; a secret that comes from the environment counts, as its substituted value is
in the config. Settings that only a restart can apply are named, not silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.config.loader import LoadedConfig


class ReloadError(ValueError):
    """The new config cannot be applied to the running gateway (nothing was changed)."""


@dataclass
class ReloadPlan:
    stop: list[str] = field(default_factory=list)
    """Instances removed or disabled."""
    start: list[str] = field(default_factory=list)
    """Instances added or enabled."""
    restart: list[str] = field(default_factory=list)
    """Instances whose settings changed."""
    unchanged: list[str] = field(default_factory=list)
    needs_restart: list[str] = field(default_factory=list)
    """Top-level settings that changed but apply only when the gateway restarts."""

    def summary(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.__dict__.items() if v}


def plan_reload(old: LoadedConfig, new: LoadedConfig) -> ReloadPlan:
    if new.gateway.site.id != old.gateway.site.id:
        raise ReloadError(
            f"site.id changed from {old.gateway.site.id!r} to {new.gateway.site.id!r}: every "
            "address changes with it, so restart the gateway instead"
        )
    plan = ReloadPlan()
    for key in ("data_dir", "journal", "log", "event_loop"):
        if getattr(old.gateway, key) != getattr(new.gateway, key):
            plan.needs_restart.append(key)
    if old.gateway.site != new.gateway.site:
        plan.needs_restart.append("site")
    before = {i.id: i for i in old.gateway.plugins if i.enabled}
    after = {i.id: i for i in new.gateway.plugins if i.enabled}
    for instance_id in before:
        if instance_id not in after:
            plan.stop.append(instance_id)
    for instance_id, inst in after.items():
        if instance_id not in before:
            plan.start.append(instance_id)
        elif inst != before[instance_id] or (
            new.plugin_configs.get(instance_id) != old.plugin_configs.get(instance_id)
        ):
            plan.restart.append(instance_id)
        else:
            plan.unchanged.append(instance_id)
    return plan
