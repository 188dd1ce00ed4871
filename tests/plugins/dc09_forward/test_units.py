"""The sans-IO parts on their own: the outbox (sequence numbers, what survives a restart),
the path router (failover, failback, link-test timing) and the config's key-path errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.config.errors import ConfigError
from plugins.dc09_forward.outbox import SEQ_LAST, Outbox
from plugins.dc09_forward.paths import PathRouter, Role
from tests.plugins.dc09_forward.helpers import forwarder_entry, make_gateway, receiver

NOW = datetime(2026, 5, 1, 12, 0, 0, 400_000, tzinfo=UTC)


def test_a_restart_resends_the_event_in_flight_as_it_was() -> None:
    box = Outbox()
    box.read(10)
    first = box.begin(10, "ev-10", "SIA-DCS", "#1|NBA1", NOW)
    assert (first.seq, first.stamp) == (1, NOW.replace(microsecond=0))
    saved = box.snapshot()
    later = NOW + timedelta(minutes=5)
    again = Outbox(saved)
    assert not again.done(10)
    resent = again.begin(10, "ev-10", "SIA-DCS", "#1|NBA1", later)
    assert resent.resumed and (resent.seq, resent.stamp) == (first.seq, first.stamp)
    other = again.begin(11, "ev-11", "SIA-DCS", "#1|NBA2", later)
    assert other.seq == 2 and not other.resumed


def test_a_changed_event_is_not_taken_for_the_saved_one() -> None:
    box = Outbox()
    box.begin(10, "ev-10", "SIA-DCS", "#1|NBA1", NOW)
    again = Outbox(box.snapshot())
    fresh = again.begin(10, "ev-10", "ADM-CID", "#1|1130 00 001", NOW)  # format changed
    assert not fresh.resumed and fresh.seq == 2


def test_the_cursor_moves_over_the_settled_prefix_only() -> None:
    box = Outbox()
    for seq in (3, 5, 8):
        box.read(seq)
    box.settle(5, position=8)  # out of order, on another connection
    assert box.acked == 2 and box.done(5) and not box.done(3)
    box.settle(3, position=8)
    assert box.acked == 7 and not box.done(8)
    restored = Outbox(box.snapshot())
    assert restored.done(5) and restored.done(7) and not restored.done(8)
    box.settle(8, position=9)
    assert box.acked == 9 and box.settled == set()


def test_sequence_numbers_wrap_and_nak_resyncs_the_clock() -> None:
    box = Outbox({"next_seq": SEQ_LAST})
    assert box.begin(1, "a", "SIA-DCS", "x", NOW).seq == SEQ_LAST
    assert box.begin(2, "b", "SIA-DCS", "y", NOW).seq == 1
    box.resync(2, NOW + timedelta(seconds=90), NOW)
    assert box.offset_s == 90 and box.inflight[2].stamp == (NOW + timedelta(seconds=90)).replace(
        microsecond=0
    )
    assert box.inflight[1].stamp == NOW.replace(microsecond=0)  # only the event NAKed


def test_garbage_in_the_saved_state_sends_afresh() -> None:
    box = Outbox({"next_seq": 0, "inflight": [{"journal_seq": "x"}, "nonsense"]})
    assert box.next_seq == 1 and box.begin(1, "a", "SIA-DCS", "x", NOW).seq == 1


def router() -> PathRouter:
    roles = (Role.PRIMARY, Role.BACKUP)
    return PathRouter(roles, failover_after=2, failback_after=2, link_test_s=60, probe_s=5)


def test_failover_after_failures_in_a_row_and_failback_after_probes() -> None:
    r = router()
    assert r.failed(Role.PRIMARY) is None
    assert r.answered(Role.PRIMARY) is None  # an answer in between resets the count
    assert r.failed(Role.PRIMARY) is None
    switch = r.failed(Role.PRIMARY)
    assert switch is not None and (switch.old, switch.new) == (Role.PRIMARY, Role.BACKUP)
    assert r.failed(Role.PRIMARY) is None  # not in use: no further switch
    assert r.answered(Role.PRIMARY) is None
    back = r.answered(Role.PRIMARY)
    assert back is not None and back.new is Role.PRIMARY and r.active is Role.PRIMARY


def test_both_paths_down_alternate() -> None:
    r = router()
    r.failed(Role.PRIMARY)
    assert r.failed(Role.PRIMARY) is not None and r.active is Role.BACKUP
    r.failed(Role.BACKUP)
    assert r.failed(Role.BACKUP) is not None and r.active is Role.PRIMARY


def test_link_tests_at_the_interval_and_probes_while_failing() -> None:
    r = router()
    r.attempt(Role.PRIMARY, 100.0)
    r.attempt(Role.BACKUP, 100.0)
    assert not r.link_test_due(Role.PRIMARY, 159.0) and r.link_test_due(Role.PRIMARY, 160.0)
    r.failed(Role.PRIMARY)
    r.failed(Role.PRIMARY)  # failed over: the primary is probed every probe_s
    assert r.link_test_due(Role.PRIMARY, 105.0) and not r.link_test_due(Role.BACKUP, 105.0)


@pytest.mark.parametrize(
    ("fields", "settings", "expected"),
    [
        ({"primary": {"host": "127.0.0.1", "port": 0}}, {}, "receivers[0].primary.port"),
        ({"account": "XYZ!"}, {}, "receivers[0].account"),
        ({"key_hex": "ABC"}, {}, "a hex key is 32, 48 or 64 hex digits"),
        ({"format": "contact-id"}, {}, "receivers[0].format"),
        ({"backup": {"host": "127.0.0.1"}}, {}, "receivers[0].backup.port"),
        ({}, {"connections": 0}, "config.connections"),
        ({}, {"link_test_s": 10, "path_supervision_s": 5}, "must be longer than link_test_s"),
        ({}, {"bogus": 1}, "config.bogus"),
    ],
)
def test_bad_config_names_the_key(
    tmp_path: Path, fields: dict[str, object], settings: dict[str, object], expected: str
) -> None:
    rx = {**receiver(1234), **fields}
    entry = forwarder_entry([rx], **settings)
    with pytest.raises(ConfigError) as err:
        make_gateway(tmp_path, "site-a", [entry])
    assert expected in str(err.value)
    assert "plugins[0].config" in str(err.value)


def test_two_receivers_with_one_name_are_refused(tmp_path: Path) -> None:
    entry = forwarder_entry([receiver(1234), receiver(1235)])
    with pytest.raises(ConfigError, match="receiver name 'arc' is used twice"):
        make_gateway(tmp_path, "site-a", [entry])
