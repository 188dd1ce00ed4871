"""The DC-09 forwarder: this gateway reports to alarm receiving centres the way a panel does.

Each configured receiver gets its own durable journal cursor (one receiver being down never
holds up another), its own sequence numbers and state, and one registry device per path
(``<site>/<instance>-<receiver>-primary`` / ``-backup``) supervised by the registry: a path
that stops answering — events and NULL link tests alike — becomes ``device.offline``, and its
return is the restore.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from gateway.journal import Filter
from gateway.model.event import Event
from gateway.model.kinds import KindSpec, Phase
from gateway.sdk import Plugin, PluginContext
from plugins.dc09_forward.config import ForwardConfig, ReceiverConfig
from plugins.dc09_forward.conformance import CONFORMANCE
from plugins.dc09_forward.forwarder import Hooks, ReceiverForwarder
from plugins.dc09_forward.kinds import KINDS, REFUSED
from plugins.dc09_forward.outbox import InFlight
from plugins.dc09_forward.paths import Role
from plugins.dc09_forward.replies import Reply


class Dc09ForwardPlugin(Plugin[ForwardConfig]):
    name = "dc09_forward"
    version = "0.1.0"
    description = (
        "DC-09 forwarder: journal events to alarm receiving centres as SIA-DCS or ADM-CID, "
        "AES optional, ACK-driven, dual path with NULL link tests"
    )
    protocols = ("sia-dc09", "sia-dcs", "adm-cid")
    Config = ForwardConfig
    device_kinds = ("connector", "transmission_path")
    kinds: ClassVar[tuple[KindSpec, ...]] = KINDS
    conformance = CONFORMANCE

    def __init__(self, config: ForwardConfig, ctx: PluginContext) -> None:
        super().__init__(config, ctx)
        self.address = f"{ctx.site}/{ctx.instance_id}"
        self.forwarders: dict[str, ReceiverForwarder] = {}

    def path_device(self, receiver: str, role: Role) -> str:
        return f"{self.ctx.site}/{self.ctx.instance_id}-{receiver}-{role}"

    async def start(self) -> None:
        self.ctx.registry.upsert_device(
            self.address, kind="connector", plugin=self.ctx.instance_id, name="DC-09 forwarder"
        )
        start: Literal["beginning", "head"] = "beginning" if self.config.history else "head"
        for receiver in self.config.receivers:
            paths = {Role.PRIMARY: receiver.primary, Role.BACKUP: receiver.backup}
            for role, path in paths.items():
                if path is None:
                    continue
                device = self.path_device(receiver.name, role)
                self.ctx.registry.upsert_device(
                    device,
                    kind="transmission_path",
                    plugin=self.ctx.instance_id,
                    name=f"DC-09 {role} path to {receiver.name} ({path.host}:{path.port})",
                    local_id=f"{receiver.name}/{role}",
                )
                self.ctx.registry.supervise(device, self.config.supervision_s)
            flt = Filter.build(
                kinds=receiver.kinds, sources=receiver.sources, max_priority=receiver.max_priority
            )
            consumer = self.ctx.subscribe(flt, cursor=f"rx-{receiver.name}", new_cursor_start=start)
            forwarder = ReceiverForwarder(
                receiver,
                self.config,
                consumer,
                self._hooks(receiver),
                self.ctx.counters,
                self.ctx.instance_id,
            )
            self.forwarders[receiver.name] = forwarder
            self.ctx.spawn(forwarder.run(), name=f"receiver-{receiver.name}")
            self.ctx.log.info(
                "forwarding",
                receiver=receiver.name,
                format=receiver.format.value,
                encrypted=receiver.key() is not None,
                dual_path=receiver.backup is not None,
                cursor_at=consumer.committed,
                acked=forwarder.outbox.acked,
            )

    async def stop(self) -> None:
        for forwarder in self.forwarders.values():
            await forwarder.close()

    def health(self) -> dict[str, Any] | None:
        """Per receiver: the path in use, NAKs in a row (a wrong key shows here) and its own
        counts, so a DUH from one centre is told from another's (the metrics sum them)."""
        return {
            "receivers": {
                name: {
                    "active_path": f.router.active.value,
                    "nak_streak": f.nak_streak,
                    "stats": dict(f.stats),
                }
                for name, f in sorted(self.forwarders.items())
            }
        }

    def _hooks(self, receiver: ReceiverConfig) -> Hooks:
        key = f"rx:{receiver.name}"
        state = self.ctx.state

        async def heard(role: Role) -> None:
            await self.ctx.registry.heard(self.path_device(receiver.name, role))

        async def refused(role: Role, inflight: InFlight, event: Event, reply: Reply) -> None:
            await self._refused(receiver, role, inflight, event)

        return Hooks(
            now=self.ctx.clock.now,
            monotonic=self.ctx.clock.monotonic,
            load=lambda: state.get(key),
            save=lambda snapshot: state.set(key, snapshot),
            durable=state.durable,
            heard=heard,
            refused=refused,
        )

    async def _refused(
        self, receiver: ReceiverConfig, role: Role, inflight: InFlight, event: Event
    ) -> None:
        """The receiver will not take an event: say so in the journal, for people to act on."""
        detail: dict[str, Any] = {
            "receiver": receiver.name,
            "path": role.value,
            "journal_seq": inflight.journal_seq,
            "event_id": inflight.event_id,
            "kind": event.kind,
            "phase": event.phase.value,
            "source": event.source,
            "dc09_seq": f"{inflight.seq:04d}",
            "sent": inflight.data,
        }
        text = (
            f"receiver {receiver.name} refused (DUH) {event.kind} from {event.source} "
            f"(journal seq {inflight.journal_seq}); not sent again"
        )
        try:
            await self.ctx.publish(
                self.ctx.event(
                    REFUSED.name,
                    self.path_device(receiver.name, role),
                    Phase.MOMENTARY,
                    text=text,
                    data=detail,
                )
            )
        except Exception as exc:  # the journal reports its own faults; keep forwarding
            self.ctx.counters["refusal_not_journaled"] += 1
            self.ctx.log.error("could not journal a refusal", error=repr(exc), **detail)
