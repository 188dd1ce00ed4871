"""The demo plugin: a bank branch with an alarm panel, a camera, a door and a UPS.

It registers its devices like a real southbound plugin, emits a realistic mix of events at a
configurable pace (intrusion and restore, access at the door, motion, arming, mains loss on the
UPS, periodic tests) and executes the commands such devices accept.
"""

from __future__ import annotations

import random
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from gateway.model.command import Command, CommandResult, ResultStatus
from gateway.model.kinds import Phase
from gateway.sdk import ConformanceSpec, Plugin

ZONES = {
    "zone-1": ("vault", "Vault door contact"),
    "zone-2": ("lobby", "Lobby motion detector"),
    "zone-3": ("lobby", "Teller hold-up button"),
    "zone-4": ("lobby", "ATM vibration sensor"),
    "zone-5": ("vault", "Vault smoke detector"),
    "zone-6": ("lobby", "Back door contact"),
}


class DemoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interval_s: float = Field(default=2.0, gt=0, le=3600, description="mean seconds between events")
    seed: int | None = Field(default=None, description="fixed seed for a repeatable sequence")
    panel_test_s: float = Field(default=20.0, gt=0, description="panel periodic test interval")


class DemoPlugin(Plugin[DemoConfig]):
    name = "demo"
    version = "0.1.0"
    description = "Simulated bank branch: panel, zones, camera, door, UPS"
    protocols = ("simulation",)
    Config = DemoConfig
    device_kinds = ("panel", "ipc", "door", "ups")
    conformance = ConformanceSpec(
        example_config={"interval_s": 0.1, "panel_test_s": 1.0, "seed": 7}
    )
    actions = (
        "camera.goto_preset",
        "door.unlock",
        "door.lock",
        "area.arm",
        "area.disarm",
        "area.reset",
        "zone.bypass",
        "zone.unbypass",
        "output.set",
    )

    async def start(self) -> None:
        site, reg = self.ctx.site, self.ctx.registry
        self.rng = random.Random(self.config.seed)
        self.panel = f"{site}/panel-1"
        reg.upsert_device(
            self.panel,
            kind="panel",
            plugin=self.ctx.instance_id,
            vendor="Demo",
            model="DP-8",
            capabilities=["area.arm", "area.disarm", "area.reset"],
        )
        for zone, (area, title) in ZONES.items():
            reg.upsert_point(
                f"{self.panel}/{zone}",
                kind="zone",
                name=title,
                area=area,
                capabilities=["zone.bypass", "zone.unbypass"],
            )
        reg.upsert_device(
            f"{site}/cam-lobby",
            kind="ipc",
            plugin=self.ctx.instance_id,
            vendor="Demo",
            model="IPC-4",
            capabilities=["camera.goto_preset"],
        )
        reg.upsert_device(
            f"{site}/door-1",
            kind="door",
            plugin=self.ctx.instance_id,
            capabilities=["door.unlock", "door.lock"],
        )
        reg.upsert_device(
            f"{site}/ups-1", kind="ups", plugin=self.ctx.instance_id, capabilities=["output.set"]
        )
        reg.supervise(self.panel, self.config.panel_test_s * 3)
        self.ctx.spawn(self._events(), name="events")
        self.ctx.spawn(self._panel_tests(), name="panel-tests")

    async def _panel_tests(self) -> None:
        while True:
            skew = timedelta(seconds=self.rng.uniform(-3, 3))
            await self.ctx.report_clock(self.panel, self.ctx.clock.now() + skew)
            await self.ctx.publish(
                self.ctx.event(
                    "test.periodic",
                    self.panel,
                    Phase.MOMENTARY,
                    code="CID:E602",
                    text="Periodic test report",
                )
            )
            await self.ctx.clock.sleep(self.config.panel_test_s)

    async def _events(self) -> None:
        scenarios = [self._intrusion, self._access, self._motion, self._arming, self._mains]
        while True:
            await self.ctx.clock.sleep(self.rng.expovariate(1 / self.config.interval_s))
            await self.rng.choice(scenarios)()

    async def _intrusion(self) -> None:
        zone = self.rng.choice(["zone-1", "zone-2", "zone-4", "zone-6"])
        area, title = ZONES[zone]
        source = f"{self.panel}/{zone}"
        for phase, q in ((Phase.ALARM, "E"), (Phase.RESTORE, "R")):
            await self.ctx.publish(
                self.ctx.event(
                    "intrusion",
                    source,
                    phase,
                    area=area,
                    zone=zone[5:],
                    code=f"CID:{q}130",
                    text=title,
                )
            )
            await self.ctx.clock.sleep(self.rng.uniform(1, 4))

    async def _access(self) -> None:
        granted = self.rng.random() < 0.85
        card = self.rng.choice([10234, 10235, 20771, 31337])
        kind = "access.granted" if granted else "access.denied"
        door = f"{self.ctx.site}/door-1"
        await self.ctx.publish(
            self.ctx.event(
                kind, door, Phase.MOMENTARY, user=str(card), data={"card": card, "facility": 12}
            )
        )
        if granted:
            await self.ctx.publish(self.ctx.event("door.opened", door, Phase.STATUS))
            await self.ctx.clock.sleep(self.rng.uniform(2, 6))
            await self.ctx.publish(self.ctx.event("door.closed", door, Phase.STATUS))

    async def _motion(self) -> None:
        cam = f"{self.ctx.site}/cam-lobby"
        await self.ctx.publish(self.ctx.event("video.motion", cam, Phase.ALARM))
        await self.ctx.clock.sleep(self.rng.uniform(3, 8))
        await self.ctx.publish(self.ctx.event("video.motion", cam, Phase.RESTORE))

    async def _arming(self) -> None:
        kind = self.rng.choice(["arming.armed", "arming.disarmed"])
        await self.ctx.publish(
            self.ctx.event(
                kind,
                self.panel,
                Phase.STATUS,
                area="vault",
                user="manager-2",
                data={"mode": "away"} if kind == "arming.armed" else {},
            )
        )

    async def _mains(self) -> None:
        ups = f"{self.ctx.site}/ups-1"
        await self.ctx.publish(
            self.ctx.event("power.on_battery", ups, Phase.ALARM, data={"battery_pct": 97})
        )
        await self.ctx.clock.sleep(self.rng.uniform(5, 15))
        await self.ctx.publish(
            self.ctx.event("power.on_battery", ups, Phase.RESTORE, data={"battery_pct": 93})
        )

    async def execute(self, command: Command) -> CommandResult:
        supported = command.action in self.actions
        return CommandResult(
            command_id=command.id,
            target=command.target,
            action=command.action,
            status=ResultStatus.OK if supported else ResultStatus.UNSUPPORTED,
            detail="simulated" if supported else f"demo does not do {command.action}",
        )
