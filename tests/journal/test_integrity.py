"""Tampering, truncation, retention and evidence export, done the way an attacker would: in SQL."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from gateway.journal import (
    Filter,
    Journal,
    JournalIntegrityError,
    RetentionPolicy,
    chain,
    verify_journal,
)
from gateway.journal.errors import RecordPrunedError
from gateway.journal.evidence import backup, export_range, verify_export
from gateway.journal.retention import DAY_US
from tests.journal.helpers import ev, raw_db


async def fill(data_dir: Path, n: int = 20, **kw: object) -> None:
    async with await Journal.open(data_dir, **kw) as j:  # type: ignore[arg-type]
        for i in range(n):
            await j.append(ev(i))


async def test_intact_journal_verifies(data_dir: Path) -> None:
    await fill(data_dir)
    report = verify_journal(data_dir)
    assert report.ok, report.problems
    assert report.records == 20 and report.head.seq == 20
    assert report.anchor is not None and report.anchor.seq == 20


async def test_altered_payload_is_detected(data_dir: Path) -> None:
    await fill(data_dir)
    db = raw_db(data_dir)
    payload = db.execute("SELECT payload FROM records WHERE seq = 7").fetchone()[0]
    db.execute(
        "UPDATE records SET payload = ? WHERE seq = 7",
        (payload.replace(b'"priority":2', b'"priority":4'),),
    )
    db.close()
    problem = verify_journal(data_dir).first_problem
    assert problem is not None and (problem.seq, problem.kind) == (7, "altered")


async def test_altered_header_column_is_detected(data_dir: Path) -> None:
    await fill(data_dir)
    db = raw_db(data_dir)
    db.execute("UPDATE records SET kind = 'test.periodic' WHERE seq = 3")
    db.close()
    problem = verify_journal(data_dir).first_problem
    assert problem is not None and (problem.seq, problem.kind) == (3, "altered")


async def test_deleted_middle_record_is_detected(data_dir: Path) -> None:
    await fill(data_dir)
    db = raw_db(data_dir)
    db.execute("DELETE FROM records WHERE seq = 11")
    db.close()
    problem = verify_journal(data_dir).first_problem
    assert problem is not None and (problem.seq, problem.kind) == (11, "missing")


async def test_deleting_the_newest_records_is_detected_by_the_anchor(data_dir: Path) -> None:
    await fill(data_dir)
    db = raw_db(data_dir)
    db.execute("DELETE FROM records WHERE seq > 15")
    db.close()
    report = verify_journal(data_dir)
    assert not report.ok
    assert report.first_problem is not None and report.first_problem.kind == "truncated"
    assert "newest 5 record(s) were removed" in report.first_problem.detail
    with pytest.raises(JournalIntegrityError, match="newest 5 record"):
        await Journal.open(data_dir)


async def test_accepting_an_anchor_mismatch_records_a_tamper_alarm(data_dir: Path) -> None:
    await fill(data_dir)
    db = raw_db(data_dir)
    db.execute("DELETE FROM records WHERE seq > 15")
    db.close()
    async with await Journal.open(data_dir, accept_anchor_mismatch=True) as j:
        tamper = j.reader.query(Filter.build(kinds=["journal.tamper"]))
        assert len(tamper) == 1 and "removed" in (tamper[0].event.text or "")
    assert list(data_dir.glob("journal.sqlite3.anchor.rejected-*"))
    assert verify_journal(data_dir).ok


async def test_pruning_keeps_the_chain_verifiable(data_dir: Path) -> None:
    policy = RetentionPolicy(default_days=30, kinds={"video.motion": 7, "access": 180})
    now_us = time.time_ns() // 1000
    async with await Journal.open(data_dir, retention=policy) as j:
        await j.append(ev(1, kind="video.motion"))
        await j.append(ev(2, kind="access.granted", phase="momentary"))
        await j.append(ev(3, kind="intrusion"))
        report = await j.prune(now_us=now_us + 10 * DAY_US)  # 10 days later
        assert report.pruned == 1 and report.by_kind == {"video.motion": 1}
        report = await j.prune(now_us=now_us + 40 * DAY_US)
        assert report.pruned == 1 and report.by_kind == {"intrusion": 1}
        records = j.reader.query(Filter.everything())
        assert [r.pruned for r in records] == [True, False, True]
        assert records[0].model is None
    result = verify_journal(data_dir)
    assert result.ok and result.tombstones == 2


def test_access_records_cannot_be_kept_less_than_180_days() -> None:
    with pytest.raises(ValueError, match="at least 180 days"):
        RetentionPolicy(kinds={"access.granted": 30})


async def test_evidence_export_verifies_on_its_own_and_detects_edits(data_dir: Path) -> None:
    await fill(data_dir, 30)
    db = raw_db(data_dir)
    ts = [r[0] for r in db.execute("SELECT ts_us FROM records ORDER BY seq")]
    db.close()
    from datetime import UTC, datetime

    since = datetime.fromtimestamp(ts[9] / 1e6, UTC)
    until = datetime.fromtimestamp(ts[19] / 1e6, UTC)
    out = io.StringIO()
    summary = export_range(data_dir, out, since, until)
    assert summary["from_seq"] <= 10 and summary["to_seq"] >= 20
    text = out.getvalue()
    check = verify_export(io.StringIO(text))
    assert check.ok, check.problems
    assert check.head == {"seq": 30, "hash": verify_journal(data_dir).head.hash_hex}
    lines = text.splitlines()
    rec = json.loads(lines[3])
    rec["payload"] = rec["payload"].replace('"n":', '"n":1')
    lines[3] = json.dumps(rec)
    bad = verify_export(io.StringIO("\n".join(lines) + "\n"))
    assert not bad.ok and "content hash" in bad.problems[0]

    # Hiding the last exported record inside the proof keeps the chain intact: the range catches it.
    lines = text.splitlines()
    last_record = max(i for i, line in enumerate(lines) if '"seq"' in line and '"rtype"' in line)
    hidden = json.loads(lines[last_record])
    digest = chain.record_digest(
        hidden["seq"],
        hidden["rtype"],
        hidden["id"],
        hidden["kind"],
        hidden["source"],
        hidden["phase"],
        hidden["priority"],
        hidden["ts_us"],
        hidden["schema_version"],
        bytes.fromhex(hidden["content_hash"]),
    )
    lines[last_record] = json.dumps({"proof": [digest.hex()]})
    hiding = verify_export(io.StringIO("\n".join(lines) + "\n"))
    assert not hiding.ok and "the header promises" in hiding.problems[0]

    no_prev = json.dumps({**json.loads(lines[0]), "prev_hash": None})
    first = json.loads(lines[0])["from_seq"]
    for broken in (no_prev + "\n", lines[0] + f'\n{{"seq": {first}}}\n'):
        malformed = verify_export(io.StringIO(broken))
        assert not malformed.ok and malformed.problems[0].startswith("not a well-formed")


async def test_a_pruned_record_says_so_when_read_as_an_event(data_dir: Path) -> None:
    async with await Journal.open(data_dir, retention=RetentionPolicy(default_days=1)) as j:
        await j.append(ev(0))
        await j.prune(now_us=time.time_ns() // 1000 + 3 * DAY_US)
        (record,) = j.reader.query(Filter.everything())
    with pytest.raises(RecordPrunedError, match="pruned by retention"):
        _ = record.event


async def test_online_backup_is_a_verifiable_journal(data_dir: Path, tmp_path: Path) -> None:
    async with await Journal.open(data_dir) as j:
        for i in range(10):
            await j.append(ev(i))
        dest = tmp_path / "bk" / "journal.sqlite3"
        head = backup(data_dir, dest)
        assert head.seq == 10
        await j.append(ev(99))  # the live journal moves on
    report = verify_journal(dest.parent)
    assert report.ok and report.head.seq == 10
