"""The Modbus plugin: UPSs, power meters and PDUs polled over Modbus TCP, RTU, RTU over TCP.

Wiring only: connections become :class:`~plugins.modbus.scheduler.Line` loops over a
:class:`~plugins.modbus.adapter.ModbusLink`; each reading goes through the device's
:class:`~plugins.modbus.mapping.DeviceTracker`; what it yields is queued and published by one
task, so a slow journal never holds up a line (and a full queue drops telemetry, counted,
never alarms).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from gateway.model.command import Command, CommandResult, ResultStatus
from gateway.model.kinds import KindSpec, Phase
from gateway.sdk import ConformanceSpec, Plugin, PluginContext
from gateway.sdk.codec import CodecSpec
from plugins.modbus.adapter import Endpoint, ModbusLink
from plugins.modbus.codec import CODECS
from plugins.modbus.commands import Commander, CommandFailed
from plugins.modbus.config import DeviceConfig, ModbusConfig
from plugins.modbus.kinds import IDENTITY, KINDS, TELEMETRY
from plugins.modbus.mapping import DeviceTracker, Outcome
from plugins.modbus.planner import Block
from plugins.modbus.scheduler import DeviceRuntime, Line

NAMED_ACTIONS = ("ups.self_test", "outlet.on", "outlet.off")
"""Profile actions with a name every UPS profile may implement; others go via modbus.action."""
HEARD_EVERY_S = 1.0
HEALTH_DEVICES = 100
"""Devices shown in ``health()`` (an operator's page, not a dump of a large site)."""
STATE_KEY = "active"


@dataclass
class _Item:
    device: DeviceRuntime
    outcome: Outcome | None
    online: bool | None = None
    reason: str = ""


class ModbusPlugin(Plugin[ModbusConfig]):
    name = "modbus"
    version = "0.1.0"
    description = "UPSs, power meters and PDUs over Modbus TCP / RTU / RTU over TCP (profiles)"
    protocols = ("modbus-tcp", "modbus-rtu", "modbus-rtu-over-tcp")
    Config = ModbusConfig
    device_kinds = ("ups", "meter", "pdu")
    actions = ("output.set", *NAMED_ACTIONS, "modbus.action")
    kinds: ClassVar[tuple[KindSpec, ...]] = KINDS
    codecs: ClassVar[tuple[CodecSpec, ...]] = CODECS
    conformance = ConformanceSpec(
        example_config={
            # Nothing listens on 127.0.0.1:1: the instance must run, mark the UPS offline and
            # answer commands with "failed", never fault.
            "connections": [{"name": "line1", "host": "127.0.0.1", "port": 1}],
            "devices": [
                {"name": "ups-1", "connection": "line1", "unit": 1, "profile": "apc_smart_ups"}
            ],
        },
        command_params={
            "output.set": {"point": "transfer_high", "value": 250},
            "modbus.action": {"name": "ups.self_test"},
        },
    )

    def __init__(self, config: ModbusConfig, ctx: PluginContext) -> None:
        super().__init__(config, ctx)
        self.links: dict[str, ModbusLink] = {}
        self.lines: list[Line] = []
        self.devices: dict[str, DeviceRuntime] = {}
        self._link_of: dict[str, ModbusLink] = {}
        self._queue: asyncio.Queue[_Item] = asyncio.Queue(config.queue_size)
        self._heard_at: dict[str, float] = {}
        self._clock_at: dict[str, float] = {}
        self.commander = Commander(ctx.clock.monotonic, ctx.clock.sleep)
        active = ctx.state.get(STATE_KEY, {}) or {}
        for conn in config.connections:
            link = ModbusLink(
                Endpoint(
                    conn.transport,
                    host=conn.host,
                    port=conn.port,
                    serial_port=conn.serial_port,
                    baudrate=conn.baudrate,
                    parity=conn.parity,
                    stopbits=conn.stopbits,
                    timeout_s=conn.timeout_ms / 1000,
                )
            )
            self.links[conn.name] = link
            on_line = []
            for dev in config.devices:
                if dev.connection != conn.name:
                    continue
                address = f"{ctx.site}/{dev.name}"
                runtime = DeviceRuntime(
                    dev.name,
                    address,
                    dev.unit,
                    dev.profile,
                    DeviceTracker(dev.profile, active.get(address, [])),
                )
                runtime.plan()
                self.devices[address] = runtime
                self._link_of[address] = link
                on_line.append(runtime)
            if on_line:
                self.lines.append(
                    Line(
                        conn.name,
                        link,
                        on_line,
                        sink=self._sink,
                        on_state=self._on_state,
                        monotonic=ctx.clock.monotonic,
                        sleep=ctx.clock.sleep,
                        probe_interval_s=conn.probe_interval_s,
                        pacing_s=conn.pacing_s,
                    )
                )

    async def start(self) -> None:
        for dev in self.config.devices:
            self._register(dev)
        self.ctx.spawn(self._publisher(), name="publisher")
        for line in self.lines:
            self.ctx.spawn(line.run(), name=f"line-{line.name}")
        self.ctx.log.info(
            "polling",
            lines=len(self.lines),
            devices=len(self.devices),
            requests_per_cycle=sum(d.requests_per_cycle for d in self.devices.values()),
        )

    async def stop(self) -> None:
        for link in self.links.values():
            link.close()

    # -- registry ------------------------------------------------------------------------------

    def _register(self, dev: DeviceConfig) -> None:
        runtime = self.devices[f"{self.ctx.site}/{dev.name}"]
        profile = dev.profile
        writable = [n for n, p in profile.points.items() if p.writable]
        capabilities = ["output.set"] if writable else []
        capabilities += [a for a in NAMED_ACTIONS if a in profile.actions]
        if profile.actions:
            capabilities.append("modbus.action")
        self.ctx.registry.upsert_device(
            runtime.address,
            kind=profile.device_kind,
            plugin=self.ctx.instance_id,
            name=dev.title,
            local_id=f"{dev.connection}/unit-{dev.unit}",
            vendor=profile.identity.vendor if profile.identity else None,
            capabilities=capabilities,
        )
        for name in writable:
            self.ctx.registry.upsert_point(
                f"{runtime.address}/{name.replace('_', '-')}",
                kind="setting",
                name=profile.points[name].description,
                capabilities=["output.set"],
            )
        intervals = [profile.interval(p) for p in profile.points.values()]
        timeout = next(c.timeout_ms for c in self.config.connections if c.name == dev.connection)
        supervision = dev.supervision_s or max(5.0, 3 * min(intervals) + timeout / 1000)
        self.ctx.registry.supervise(runtime.address, supervision)

    def health(self) -> dict[str, Any] | None:
        """Each device: answering or not, what is wrong now, its counters (for /instances)."""
        return {
            "devices": {
                address: {
                    "online": d.online,
                    "last_error": d.last_error,
                    "troubles": dict(d.troubles),
                    "counters": dict(d.counters),
                }
                for address, d in sorted(self.devices.items())[:HEALTH_DEVICES]
            }
        }

    # -- from the lines (synchronous, never blocks a line) ---------------------------------------

    def _sink(self, device: DeviceRuntime, block: Block, words: list[int]) -> None:
        now = self.ctx.clock.monotonic()
        outcome = device.tracker.update(block, words, now)
        device.counters["points"] += outcome.points
        if outcome.problems:
            device.counters["value_problems"] += len(outcome.problems)
            self.ctx.counters["value_problems"] += len(outcome.problems)
            device.last_error = outcome.problems[-1]
        if outcome.problems or device.troubles:  # a string per block only when it matters
            device.trouble(block.describe(), "; ".join(outcome.problems) or None)
        due = now - self._heard_at.get(device.address, -HEARD_EVERY_S) >= HEARD_EVERY_S
        if outcome or due:
            self._heard_at[device.address] = now
            self._enqueue(_Item(device, outcome))

    def _on_state(self, device: DeviceRuntime, online: bool, reason: str) -> None:
        self._enqueue(_Item(device, None, online, reason))

    def _enqueue(self, item: _Item) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.ctx.counters["readings_dropped"] += 1

    # -- to the journal ------------------------------------------------------------------------

    async def _publisher(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                await self._handle(item)
            except Exception as exc:  # a refused event or a journal fault: count, keep going
                self.ctx.counters["publish_errors"] += 1
                self.ctx.log.warning(
                    "publishing failed", device=item.device.address, error=str(exc)
                )

    async def _handle(self, item: _Item) -> None:
        device = item.device
        if item.online is not None:
            self.ctx.log.info(
                "device answering" if item.online else "device not answering; probing",
                device=device.address,
                reason=item.reason,
            )
            return
        outcome = item.outcome
        assert outcome is not None
        await self.ctx.registry.heard(device.address)
        for change in outcome.alarms:
            event = self.ctx.event(
                change.kind,
                device.address,
                Phase(change.phase),
                text=change.text,
                data=change.data,
                protocol="modbus",
            )
            await self.ctx.publish(event)
            self._save_active()
        if outcome.identity:
            await self._identity(device, outcome.identity)
        if outcome.telemetry:
            profile = device.profile
            units = {n: profile.points[n].unit for n in outcome.telemetry if profile.points[n].unit}
            event = self.ctx.event(
                TELEMETRY.name,
                device.address,
                Phase.STATUS,
                data={"values": dict(outcome.telemetry), "units": units},
                protocol="modbus",
            )
            await self.ctx.publish(event)
        if outcome.clock is not None:
            await self._clock(device, outcome.clock)

    async def _identity(self, device: DeviceRuntime, identity: dict[str, str]) -> None:
        current = self.ctx.registry.get_device(device.address)
        self.ctx.registry.upsert_device(
            device.address,
            kind=current.kind if current else device.profile.device_kind,
            plugin=self.ctx.instance_id,
            model=identity.get("model"),
            firmware=identity.get("firmware"),
        )
        text = " ".join(f"{k} {v}" for k, v in sorted(identity.items()))
        event = self.ctx.event(
            IDENTITY.name, device.address, Phase.STATUS, text=text, data=identity, protocol="modbus"
        )
        await self.ctx.publish(event)

    async def _clock(self, device: DeviceRuntime, device_time: datetime) -> None:
        clock = device.profile.clock
        assert clock is not None
        now = self.ctx.clock.monotonic()
        if now - self._clock_at.get(device.address, -clock.interval_s) < clock.interval_s:
            return
        self._clock_at[device.address] = now
        await self.ctx.report_clock(device.address, device_time)

    def _save_active(self) -> None:
        self.ctx.state.set(
            STATE_KEY,
            {a: sorted(d.tracker.active) for a, d in self.devices.items() if d.tracker.active},
        )

    # -- commands ------------------------------------------------------------------------------

    async def execute(self, command: Command) -> CommandResult:
        parts = command.target.split("/")
        device = self.devices.get("/".join(parts[:2]))
        if device is None:
            return self._result(command, ResultStatus.UNSUPPORTED, "not a device of this instance")
        link = self._link_of[device.address]
        try:
            if command.action == "output.set":
                point = command.params.get("point") or (
                    parts[2].replace("-", "_") if len(parts) > 2 else None
                )
                if not isinstance(point, str):
                    raise CommandFailed("name the point: target a point, or params.point")
                if "value" not in command.params:
                    raise CommandFailed("params.value is required")
                done = await self.commander.output_set(link, device, point, command.params["value"])
            else:
                name = command.action
                if name == "modbus.action":
                    named = command.params.get("name")
                    if not isinstance(named, str):
                        raise CommandFailed("params.name names the profile action")
                    name = named
                if name not in device.profile.actions:
                    return self._result(
                        command,
                        ResultStatus.UNSUPPORTED,
                        f"profile {device.profile.name} has no action {name}",
                    )
                done = await self.commander.action(link, device, name)
        except CommandFailed as exc:
            return self._result(command, ResultStatus.FAILED, str(exc))
        return self._result(command, ResultStatus.OK, done.detail, done.data)

    @staticmethod
    def _result(
        command: Command, status: ResultStatus, detail: str, data: dict[str, Any] | None = None
    ) -> CommandResult:
        return CommandResult(
            command_id=command.id,
            target=command.target,
            action=command.action,
            status=status,
            detail=detail,
            data=data or {},
        )
