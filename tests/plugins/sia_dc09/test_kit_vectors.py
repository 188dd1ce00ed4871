"""The kit's vector file (plugins/sia_dc09/dc09/vectors.json) through the conformance checks.

The decode registered for ``anfang decode sia-dc09`` will be the lead's; here a stand-in with
the same contract (one frame and a DecodeContext, ``Variants()`` defaults, no keys) runs the
kit's own vector and fuzz checks, so the file and the codec agree before it is wired.
"""

from __future__ import annotations

import json

from conformance.codec_checks import check_codec
from conformance.report import Status
from gateway.sdk.codec import CodecSpec, DecodeContext, Decoded
from plugins.sia_dc09.dc09 import Dc09Error, parse_frame
from tests.plugins.sia_dc09.helpers import frame_bytes, kind, vectors
from tests.plugins.sia_dc09.kit import KIT_FILE, render


def decode(data: bytes, ctx: DecodeContext) -> Decoded:
    return Decoded(parse_frame(data).to_dict(), [])


SPEC = CodecSpec("sia-dc09", "SIA DC-09 frame", decode, Dc09Error, KIT_FILE)


def test_file_is_what_the_generator_builds() -> None:
    assert KIT_FILE.read_text(encoding="utf-8") == render(), (
        "regenerate: .venv/bin/python -m tests.plugins.sia_dc09.kit"
    )


def test_every_entry_comes_from_the_repository_vectors_with_its_source() -> None:
    doc = json.loads(KIT_FILE.read_text(encoding="utf-8"))
    assert doc["codec"] == "sia-dc09" and doc["source"]
    by_frame = {frame_bytes(v): v for v in vectors() if kind(v) != "window"}
    for entry in doc["vectors"]:
        frame = entry["frame"]
        raw = bytes.fromhex(frame["hex"]) if isinstance(frame, dict) else frame.encode()
        vector = by_frame[raw]
        assert entry["source"].startswith(vector["source"])
        assert ("error" in entry) != ("message" in entry)
        assert '"*' not in raw.decode("latin-1")  # plain frames only
    assert len(doc["vectors"]) >= 20


def test_kit_checks_pass() -> None:
    results = check_codec(SPEC, fuzz_examples=300)
    assert [(r.name, r.status) for r in results] == [
        ("codec.sia-dc09.vectors", Status.PASS),
        ("codec.sia-dc09.fuzz", Status.PASS),
    ], [r.detail for r in results]
