"""Supervision and device clocks with a controlled clock, on a real journal."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from gateway.journal import Filter, Journal
from gateway.model.entities import DeviceStatus
from gateway.registry import Registry, StateDB
from gateway.sdk import ManualClock


async def test_device_goes_offline_and_restores_on_a_controlled_clock(data_dir: Path) -> None:
    clock = ManualClock()
    async with await Journal.open(data_dir) as journal:
        reg = Registry("hq", clock, StateDB(data_dir / "state.sqlite3"), journal.append)
        reg.upsert_device("hq/panel-1", kind="panel", plugin="rx")
        reg.supervise("hq/panel-1", 60)
        await clock.advance(59)
        await reg.check_supervision()
        assert reg.devices["hq/panel-1"].status is not DeviceStatus.OFFLINE
        await clock.advance(2)
        await reg.check_supervision()
        assert reg.devices["hq/panel-1"].status is DeviceStatus.OFFLINE
        await clock.advance(30)
        await reg.check_supervision()  # still offline: no second alarm
        await reg.heard("hq/panel-1/zone-3")  # any point of the device counts
        assert reg.devices["hq/panel-1"].status is DeviceStatus.ONLINE
        events = journal.reader.query(Filter.build(kinds=["device.offline"]))
    assert [(e.phase, e.source) for e in events] == [
        ("alarm", "hq/panel-1"),
        ("restore", "hq/panel-1"),
    ]


async def test_offline_state_survives_a_restart(data_dir: Path) -> None:
    clock = ManualClock()
    async with await Journal.open(data_dir) as journal:
        db = StateDB(data_dir / "state.sqlite3")
        reg = Registry("hq", clock, db, journal.append)
        reg.upsert_device("hq/panel-1", kind="panel")
        reg.supervise("hq/panel-1", 10)
        await clock.advance(11)
        await reg.check_supervision()
        db.close()
        reg2 = Registry("hq", clock, StateDB(data_dir / "state.sqlite3"), journal.append)
        assert reg2.devices["hq/panel-1"].status is DeviceStatus.OFFLINE
        await clock.advance(30)
        await reg2.check_supervision()
        assert len(journal.reader.query(Filter.build(kinds=["device.offline"]))) == 1


async def test_clock_skew_alarm_and_restore(data_dir: Path) -> None:
    clock = ManualClock()
    async with await Journal.open(data_dir) as journal:
        reg = Registry("hq", clock, StateDB(data_dir / "state.sqlite3"), journal.append)
        reg.upsert_device("hq/panel-1", kind="panel")
        assert await reg.report_clock("hq/panel-1", clock.now() + timedelta(seconds=4)) == 4
        await reg.report_clock("hq/panel-1", clock.now() - timedelta(seconds=25))
        await reg.report_clock("hq/panel-1", clock.now() - timedelta(seconds=26))
        await reg.report_clock("hq/panel-1", clock.now() + timedelta(seconds=1))
        events = journal.reader.query(Filter.build(kinds=["device.clock_skew"]))
        assert reg.devices["hq/panel-1"].clock_offset_s == 1.0
    assert [e.phase for e in events] == ["alarm", "restore"]


async def test_pins_win_and_gb_codes_are_assigned(data_dir: Path) -> None:
    from gateway.config.schema import DevicePin

    async with await Journal.open(data_dir) as journal:
        pins = [DevicePin(address="hq/cam-1", name="Lobby", gb_code="34020000001320000009")]
        reg = Registry(
            "hq", ManualClock(), StateDB(data_dir / "state.sqlite3"), journal.append, pins=pins
        )
        cam = reg.upsert_device("hq/cam-1", kind="ipc", name="IPC-4 firmware name")
        other = reg.upsert_device("hq/cam-2", kind="ipc")
    assert (cam.name, cam.gb_code) == ("Lobby", "34020000001320000009")
    assert other.gb_code == "34020000001320000001"


async def test_a_panel_number_wins_over_an_area_named_like_it(data_dir: Path) -> None:
    """Panel A reports area "1"; an area *named* "1" belongs to panel B and must not arm."""
    from gateway.config.schema import AreaConfig
    from gateway.model.entities import ArmingState
    from gateway.registry.areas import Change

    clock = ManualClock()
    async with await Journal.open(data_dir) as journal:
        areas = [
            AreaConfig(name="1", device="hq/panel-b", local_id="1"),
            AreaConfig(name="lobby", device="hq/panel-a", local_id="1"),
            AreaConfig(name="yard"),
        ]
        reg = Registry(
            "hq", clock, StateDB(data_dir / "state.sqlite3"), journal.append, areas=areas
        )
        armed = Change(arming=ArmingState.AWAY)
        reg.apply_area_change("hq/panel-a", "1", armed)
        assert reg.areas["hq/lobby"].arming is ArmingState.AWAY
        assert reg.areas["hq/1"].arming is ArmingState.UNKNOWN
        reg.apply_area_change("hq/panel-a", "yard", armed)  # a name bound to no panel
        assert reg.areas["hq/yard"].arming is ArmingState.AWAY
        assert reg.apply_area_change("hq/panel-a", "2", armed) is None


async def test_which_sources_may_belong_to_an_area_is_known_from_the_address(
    data_dir: Path,
) -> None:
    """The area tracker skips reading events whose source no area could concern."""
    async with await Journal.open(data_dir) as journal:
        reg = Registry("hq", ManualClock(), StateDB(data_dir / "state.sqlite3"), journal.append)
        assert not reg.may_have_area("hq/panel-1/zone-1")  # no areas at all
        reg.upsert_area("vault", device="hq/panel-1", local_id="1")
        assert reg.may_have_area("hq/panel-1/zone-1")  # the panel's own areas
        assert reg.may_have_area("hq/vault")  # the area itself
        assert not reg.may_have_area("hq/cam-1")
        reg.upsert_point("hq/io-1/in-3", kind="zone", area="vault")
        assert reg.may_have_area("hq/io-1/in-3")  # a point assigned to an area
        assert not reg.may_have_area("hq/io-1/in-4")
        reg.upsert_area("lobby")  # not bound to a panel: any event's area field may name it
        assert reg.may_have_area("hq/cam-1")
        assert reg.area_of("hq/cam-1", "lobby") is not None


async def test_the_same_account_on_two_sites_gets_two_areas(data_dir: Path) -> None:
    """Account 1234 on the gateway's own site and on branch-01 (an account's ``site:``): each
    panel's area 1 is its own. They shared one before, whose device and arming went to
    whichever panel spoke last."""
    from gateway.sdk.accounts import ensure_panel_area

    async with await Journal.open(data_dir) as journal:
        reg = Registry("branch", ManualClock(), StateDB(data_dir / "state.sqlite3"), journal.append)
        seen: set[str] = set()
        for device in ("branch/acct-1234", "branch-01/acct-1234", "branch/acct-1234"):
            ensure_panel_area(reg, seen, device, "1")
        ensure_panel_area(reg, set(), "branch-01/acct-1234", "1")  # as after a restart
        here = reg.area_of("branch/acct-1234", "1")
        there = reg.area_of("branch-01/acct-1234", "1")
        assert here is not None and there is not None
        assert (here.name, here.device) == ("acct-1234-area-1", "branch/acct-1234")
        assert (there.name, there.device) == ("branch-01-acct-1234-area-1", "branch-01/acct-1234")
        assert len(reg.areas) == 2
