"""Dual path: failover when the primary path goes, failback when it returns, NULL link tests.

The centre is a second Anfang (B); each path is a socat relay in front of it. The path devices
in A's registry are supervised by the registry: a path that stops answering is
``device.offline`` in A's journal, its return the restore.
"""

from __future__ import annotations

from pathlib import Path

from gateway.host import Gateway
from gateway.model.kinds import Phase
from plugins.dc09_forward.paths import Role
from tests.plugins.dc09_forward.helpers import (
    alarm,
    centre_entry,
    eventually,
    forwarder,
    forwarder_entry,
    free_port,
    journal_events,
    make_gateway,
    receiver,
    receiver_plugin,
    relays,
    running,
    zones_received,
)

PRIMARY = "site-a/fwd-arc-primary"
BACKUP = "site-a/fwd-arc-backup"


def path_events(site: Gateway, device: str) -> list[Phase]:
    return [
        e.phase for e in journal_events(site, "registry", "device.offline") if e.source == device
    ]


async def test_failover_and_failback_with_path_trouble_events(tmp_path: Path) -> None:
    port = free_port()
    centre = make_gateway(tmp_path / "b", "arc", [centre_entry(port)])
    async with running(centre):
        with relays(port, port) as (primary, backup):
            await primary.listening()
            await backup.listening()
            site = make_gateway(
                tmp_path / "a",
                "site-a",
                [forwarder_entry([receiver(primary.port, backup.port)])],
            )
            async with running(site):
                fwd = forwarder(site)
                for n in range(1, 11):
                    await site.journal.append(alarm(n))
                await eventually(lambda: len(zones_received(centre)) >= 10)
                await eventually(lambda: fwd.stats["acked"] >= 10)
                assert fwd.acked_on[Role.PRIMARY] == 10 and fwd.acked_on[Role.BACKUP] == 0

                primary.cut()  # the primary network is gone
                for n in range(11, 21):
                    await site.journal.append(alarm(n))
                await eventually(lambda: len(zones_received(centre)) >= 20)
                await eventually(lambda: fwd.stats["acked"] >= 20)
                assert fwd.stats["failover"] == 1 and fwd.router.active is Role.BACKUP
                assert fwd.acked_on[Role.BACKUP] == 10
                await eventually(lambda: path_events(site, PRIMARY) == [Phase.ALARM])
                assert path_events(site, BACKUP) == []  # the backup never went silent

                primary.start()  # the same port again: the path is back
                await eventually(lambda: fwd.router.active is Role.PRIMARY)
                await eventually(lambda: path_events(site, PRIMARY) == [Phase.ALARM, Phase.RESTORE])
                for n in range(21, 31):
                    await site.journal.append(alarm(n))
                await eventually(lambda: len(zones_received(centre)) >= 30)
                await eventually(lambda: fwd.stats["acked"] >= 30)
                assert fwd.acked_on[Role.PRIMARY] == 20
                assert fwd.stats["failback"] == 1
                assert site.registry.devices[PRIMARY].status.value == "online"
        assert zones_received(centre) == list(range(1, 31))  # once each, in order


async def test_null_link_tests_keep_both_paths_supervised(tmp_path: Path) -> None:
    port = free_port()
    centre = make_gateway(tmp_path / "b", "arc", [centre_entry(port)])
    async with running(centre):
        with relays(port, port) as (primary, backup):
            await primary.listening()
            await backup.listening()
            site = make_gateway(
                tmp_path / "a", "site-a", [forwarder_entry([receiver(primary.port, backup.port)])]
            )
            async with running(site):
                fwd = forwarder(site)
                rx = receiver_plugin(centre)
                # nothing to forward: only NULL messages cross, on both paths
                await eventually(lambda: rx.ctx.counters["ack_null"] >= 10)
                await eventually(lambda: all(h.answered >= 3 for h in fwd.router.health.values()))
                assert fwd.stats["acked"] == 0 and fwd.stats["link_tests"] >= 10
                for device in (PRIMARY, BACKUP):
                    assert site.registry.devices[device].status.value == "online"
                # the backup path stops answering: its link tests fail, it goes offline,
                # and events keep flowing over the primary
                backup.freeze()
                await eventually(lambda: path_events(site, BACKUP) == [Phase.ALARM])
                assert fwd.router.active is Role.PRIMARY and fwd.stats["backup_failures"] >= 1
                await site.journal.append(alarm(1))
                await eventually(lambda: zones_received(centre) == [1])
                backup.thaw()
                await eventually(lambda: path_events(site, BACKUP) == [Phase.ALARM, Phase.RESTORE])
