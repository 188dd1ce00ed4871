"""Every vector in conformance/vectors/modbus.json, at the level it belongs to: frames through the
sans-IO codec (CRC/LRC/MBAP and the stated meaning), the CRC check value, APC scaling through the
shipped profile, and the APC status words through the profile's bit names and alarms."""

from __future__ import annotations

from typing import Any

import pytest

from plugins.modbus.frames import crc16_modbus, decode_ascii, decode_rtu, decode_tcp
from plugins.modbus.loader import load_profile
from plugins.modbus.mapping import DeviceTracker
from plugins.modbus.planner import Block
from plugins.modbus.profile import Table
from plugins.modbus.values import decode
from tests.plugins.modbus.kit import FILES, KIT_DIR, frame_of, kit_documents, render, vectors

VECTORS = vectors()
APC = load_profile("apc_smart_ups")
POINT_AT = {p.address: name for name, p in APC.points.items() if p.table is Table.HOLDING}
NUT_FLAGS = {
    "OL": "online",
    "OB": "on_battery",
    "OFF": "output_off",
    "TEST": "self_test",
    "OVER": "overload",
    "alarm:General fault": "general_fault",
}


def _kind(v: dict[str, Any]) -> str:
    value = v["input"]
    if not isinstance(value, dict):
        return "crc_check"
    for key in ("rtu_hex", "tcp_hex", "ascii", "holding_register", "registers_0_1_UPSStatus_BF"):
        if key in value:
            return key
    raise AssertionError(f"unclassified vector {v}")


def _of(kind: str) -> list[Any]:
    return [pytest.param(v, id=str(v["input"])[:40]) for v in VECTORS if _kind(v) == kind]


def test_every_vector_is_covered_and_keeps_its_source() -> None:
    kinds = {_kind(v) for v in VECTORS}
    assert kinds == {
        "rtu_hex",
        "tcp_hex",
        "ascii",
        "holding_register",
        "registers_0_1_UPSStatus_BF",
        "crc_check",
    }
    assert all(v["source"] for v in VECTORS)


@pytest.mark.parametrize("vector", _of("rtu_hex"))
def test_rtu_frames(vector: dict[str, Any]) -> None:
    frame = frame_of("rtu_hex", vector["input"]["rtu_hex"])
    adu = decode_rtu(frame)
    calc = vector["verified_here"]["crc_calc"]
    assert f"{crc16_modbus(frame[:-2]):04X}" == calc
    assert frame[-2:] == bytes.fromhex(calc)[::-1]  # low byte first on the wire
    assert adu.unit == frame[0]
    meaning = vector["expected"]["meaning"]
    fields = adu.pdu.to_dict()
    if "exception" in meaning:
        assert fields["role"] == "exception" and fields["exception_code"] == 2
    elif "response" in meaning:
        assert fields["role"] == "response" and fields["registers"] == [0x8D, 0x8E]
    elif "FC4" in meaning:
        assert (adu.pdu.function, fields["address"], fields["count"]) == (4, 3, 1)
    else:
        assert (adu.pdu.function, fields["address"], fields["count"]) == (3, 0x7C, 2)


@pytest.mark.parametrize("vector", _of("tcp_hex"))
def test_tcp_frames(vector: dict[str, Any]) -> None:
    adu = decode_tcp(frame_of("tcp_hex", vector["input"]["tcp_hex"]))
    assert adu.transaction_id == 0x0C05 and adu.unit == 17
    fields = adu.pdu.to_dict()
    if "exception" in vector["expected"]["meaning"]:
        assert fields["exception"] == "illegal data address"
    else:
        assert fields["registers"] == [141, 142]


@pytest.mark.parametrize("vector", _of("ascii"))
def test_ascii_frames(vector: dict[str, Any]) -> None:
    frame = frame_of("ascii", vector["input"]["ascii"])
    adu = decode_ascii(frame)
    assert frame.rstrip(b"\r\n")[-2:].decode() == vector["verified_here"]["lrc_calc"]
    assert adu.unit == int(frame[1:3], 16)


def test_crc_check_value() -> None:
    (vector,) = [v for v in VECTORS if _kind(v) == "crc_check"]
    assert f"{crc16_modbus(vector['input'].encode()):04X}" == vector["expected"]["crc16_modbus"]


@pytest.mark.parametrize("vector", _of("holding_register"))
def test_apc_scaling_through_the_shipped_profile(vector: dict[str, Any]) -> None:
    name = POINT_AT[vector["input"]["holding_register"]]
    point = APC.points[name]
    assert point.scale_exp2 == -vector["expected"]["scale_bits"]
    reading = decode(point, [vector["input"]["raw"]], "big", "big")
    assert reading.value == vector["expected"]["value"]


@pytest.mark.parametrize("vector", _of("registers_0_1_UPSStatus_BF"))
def test_apc_status_words_through_the_profile(vector: dict[str, Any]) -> None:
    word = int(vector["input"]["registers_0_1_UPSStatus_BF"], 16)
    tracker = DeviceTracker(APC)
    block = Block(Table.HOLDING, 0, 2, ("ups_status",))
    tracker.update(block, [word >> 16, word & 0xFFFF], 0.0)
    bits = APC.points["ups_status"].bits or {}
    named = {bits[b] for b in bits if word >> b & 1}
    assert named == {NUT_FLAGS[flag] for flag in vector["expected"]["nut_status"]}
    assert ("power.on_battery" in tracker.active) == ("OB" in vector["expected"]["nut_status"])
    assert ("power.overload" in tracker.active) == ("OVER" in vector["expected"]["nut_status"])


@pytest.mark.parametrize("form", sorted(FILES))
def test_kit_vector_files_are_current(form: str) -> None:
    """The files the conformance kit reads are what kit.py makes from the vectors today."""
    assert (KIT_DIR / FILES[form]).read_text(encoding="utf-8") == render(form)
    assert kit_documents()[form]["vectors"]
