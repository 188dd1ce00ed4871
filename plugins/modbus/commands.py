"""Commands: ``output.set`` on a writable point and the profile's actions, each confirmed by
reading back what the device now says (the CommandResult carries that value).

A write the device acknowledges is not yet a done deed (a UPS may refuse a self test while on
battery, an outlet may stay off): the result is ``ok`` only when the read-back shows the
expected value within the action's ``within_s``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from plugins.modbus.adapter import LinkError, ModbusLink
from plugins.modbus.profile import Action, DataType, ReadBack, Table, Write
from plugins.modbus.scheduler import DeviceRuntime
from plugins.modbus.values import Reading, decode, encode

READBACK_EVERY_S = 0.25


class CommandFailed(Exception):
    """The command could not be carried out; the text is the result's detail."""


@dataclass
class Outcome:
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


class Commander:
    def __init__(
        self,
        monotonic: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.monotonic = monotonic
        self.sleep = sleep

    async def output_set(
        self, link: ModbusLink, device: DeviceRuntime, name: str, value: Any
    ) -> Outcome:
        profile = device.profile
        point = profile.points.get(name)
        if point is None:
            raise CommandFailed(f"{device.address} has no point {name!r}")
        if not point.writable:
            raise CommandFailed(f"point {name} is not writable (profile: writable: true)")
        if not isinstance(value, int | float | bool):
            raise CommandFailed(f"params.value must be a number or true/false, not {value!r}")
        try:
            words = encode(point, value, profile.word_order(point), profile.byte_order(point))
        except ValueError as exc:
            raise CommandFailed(f"cannot write {value!r} to {name}: {exc}") from None
        await self._write(link, device, point.table, point.address, words)
        reading = await self._read_point(link, device, name)
        if not _same(reading.value, value, point.factor if point.type is not DataType.BOOL else 0):
            raise CommandFailed(f"wrote {value!r} to {name}, read back {reading.value!r}")
        return Outcome(
            f"{name} = {reading.value!r} (read back)", {"point": name, "value": reading.value}
        )

    async def action(self, link: ModbusLink, device: DeviceRuntime, name: str) -> Outcome:
        action = device.profile.actions.get(name)
        if action is None:
            known = ", ".join(sorted(device.profile.actions)) or "none"
            raise CommandFailed(f"profile {device.profile.name} has no action {name!r} ({known})")
        for write in action.writes:
            await self._do(link, device, write)
        if action.readback is None:
            return Outcome(f"{name}: written (the profile defines no read-back)")
        return await self._confirm(link, device, name, action, action.readback)

    async def _do(self, link: ModbusLink, device: DeviceRuntime, write: Write) -> None:
        profile = device.profile
        if write.point is not None:
            point = profile.points[write.point]
            assert write.value is not None
            words = encode(point, write.value, profile.word_order(point), profile.byte_order(point))
            await self._write(link, device, point.table, point.address, words)
        elif write.table is Table.COIL and write.address is not None:
            await self._write(link, device, Table.COIL, write.address, [int(bool(write.coil))])
        elif write.address is not None and write.registers:
            await self._write(link, device, Table.HOLDING, write.address, write.registers)

    async def _confirm(
        self, link: ModbusLink, device: DeviceRuntime, name: str, action: Action, rb: ReadBack
    ) -> Outcome:
        deadline = self.monotonic() + rb.within_s
        while True:
            reading = await self._read_point(link, device, rb.point)
            if _expected(reading, rb):
                return Outcome(
                    f"{name}: confirmed, {rb.point} = {reading.value!r}",
                    {"readback": {rb.point: reading.value}},
                )
            if self.monotonic() >= deadline:
                want = f"bit {rb.bit} set" if rb.bit is not None else f"= {rb.equals!r}"
                raise CommandFailed(
                    f"{name}: written, but {rb.point} reads {reading.value!r} "
                    f"(expected {want}) after {rb.within_s:g} s"
                )
            await self.sleep(READBACK_EVERY_S)

    async def _write(
        self, link: ModbusLink, device: DeviceRuntime, table: Table, address: int, words: list[int]
    ) -> None:
        try:
            if table is Table.COIL:
                await link.write_coil(device.unit, address, bool(words[0]))
            else:
                await link.write_registers(device.unit, address, words)
        except LinkError as exc:
            device.counters["command_errors"] += 1
            raise CommandFailed(str(exc)) from None

    async def _read_point(self, link: ModbusLink, device: DeviceRuntime, name: str) -> Reading:
        profile = device.profile
        point = profile.points[name]
        try:
            words = await link.read(device.unit, point.table, point.address, point.size)
        except LinkError as exc:
            device.counters["command_errors"] += 1
            raise CommandFailed(f"read-back failed: {exc}") from None
        return decode(point, words, profile.word_order(point), profile.byte_order(point))


def _same(got: Any, wanted: Any, resolution: float) -> bool:
    if isinstance(wanted, bool) or isinstance(got, bool):
        return bool(got) == bool(wanted)
    if isinstance(got, int | float) and isinstance(wanted, int | float):
        return abs(got - wanted) <= resolution / 2 + 1e-9
    return bool(got == wanted)


def _expected(reading: Reading, rb: ReadBack) -> bool:
    if rb.bit is not None:
        return isinstance(reading.raw, int) and bool((reading.raw >> rb.bit) & 1)
    return _same(reading.value, rb.equals, 0)
