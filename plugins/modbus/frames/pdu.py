"""Modbus PDUs: function code + data (Modbus Application Protocol V1.1b3 §6).

A PDU does not say whether it is a request or a response; the length and byte-count rules
usually do. ``decode_pdu`` works that out and says which reading it took (``role``); where both
readings are valid (a 5-byte FC1/FC2 frame) it takes the response and flags ``ambiguous``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plugins.modbus.frames.errors import FrameError

FUNCTION_NAMES = {
    0x01: "read_coils",
    0x02: "read_discrete_inputs",
    0x03: "read_holding_registers",
    0x04: "read_input_registers",
    0x05: "write_single_coil",
    0x06: "write_single_register",
    0x0F: "write_multiple_coils",
    0x10: "write_multiple_registers",
    0x16: "mask_write_register",
    0x17: "read_write_multiple_registers",
    0x2B: "encapsulated_interface_transport",
}
EXCEPTION_NAMES = {
    0x01: "illegal function",
    0x02: "illegal data address",
    0x03: "illegal data value",
    0x04: "server device failure",
    0x05: "acknowledge",
    0x06: "server device busy",
    0x08: "memory parity error",
    0x0A: "gateway path unavailable",
    0x0B: "gateway target device failed to respond",
}
MAX_READ_BITS = 2000
MAX_READ_REGISTERS = 125
MAX_WRITE_REGISTERS = 123
MAX_WRITE_BITS = 1968


@dataclass(frozen=True)
class Pdu:
    function: int
    role: str
    """``request``, ``response``, ``exception`` or ``request_or_echo`` (FC5/FC6 echo)."""
    fields: dict[str, Any] = field(default_factory=dict)
    ambiguous: bool = False

    @property
    def name(self) -> str:
        return FUNCTION_NAMES.get(self.function & 0x7F, f"function_{self.function & 0x7F:#04x}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"function": self.function, "name": self.name, "role": self.role}
        out.update(self.fields)
        if self.ambiguous:
            out["ambiguous"] = True
        return out


def _u16(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 2], "big")


def _bits(data: bytes) -> list[int]:
    """Packed coil bits, LSB of the first byte first (§6.1)."""
    return [(byte >> i) & 1 for byte in data for i in range(8)]


def decode_pdu(pdu: bytes) -> Pdu:
    if not pdu:
        raise FrameError("empty PDU: no function code")
    fc = pdu[0]
    data = pdu[1:]
    if fc & 0x80:
        if len(data) != 1:
            raise FrameError(f"exception response must carry 1 byte, has {len(data)}")
        code = data[0]
        return Pdu(
            fc,
            "exception",
            {
                "exception_code": code,
                "exception": EXCEPTION_NAMES.get(code, f"unknown exception {code:#04x}"),
            },
        )
    if fc in (0x01, 0x02, 0x03, 0x04):
        return _read(fc, data)
    if fc in (0x05, 0x06):
        return _write_single(fc, data)
    if fc in (0x0F, 0x10):
        return _write_multiple(fc, data)
    if fc == 0x16:
        if len(data) != 6:
            raise FrameError(f"mask write register carries 6 bytes, has {len(data)}")
        return Pdu(
            fc,
            "request_or_echo",
            {"address": _u16(data, 0), "and_mask": _u16(data, 2), "or_mask": _u16(data, 4)},
        )
    if fc == 0x17:
        return _read_write(fc, data)
    if fc == 0x2B:
        if not data:
            raise FrameError("encapsulated interface transport without MEI type")
        return Pdu(
            fc,
            "request" if len(data) == 3 else "response",
            {"mei_type": data[0], "data_hex": data[1:].hex()},
        )
    if fc == 0 or fc > 0x7F:
        raise FrameError(f"function code {fc:#04x} is not valid (1..127)")
    return Pdu(fc, "unknown", {"data_hex": data.hex()})


def _read(fc: int, data: bytes) -> Pdu:
    bits = fc in (0x01, 0x02)
    is_response = len(data) >= 1 and data[0] == len(data) - 1
    is_request = len(data) == 4
    if is_request:
        address, count = _u16(data, 0), _u16(data, 2)
        limit = MAX_READ_BITS if bits else MAX_READ_REGISTERS
        request_ok = 1 <= count <= limit
    else:
        request_ok = False
    if is_response and (bits or data[0] % 2 == 0):
        values = data[1:]
        fields: dict[str, Any] = {"byte_count": data[0]}
        if bits:
            fields["bits"] = _bits(values)
        else:
            fields["registers"] = [_u16(values, i) for i in range(0, len(values), 2)]
        return Pdu(fc, "response", fields, ambiguous=request_ok)
    if request_ok:
        return Pdu(fc, "request", {"address": address, "count": count})
    if is_request:
        raise FrameError(f"read request count {count} is outside 1..{limit}")
    if data and data[0] != len(data) - 1:
        raise FrameError(
            f"byte count says {data[0]} bytes, {max(len(data) - 1, 0)} follow (short or garbled)"
        )
    if data:
        raise FrameError(f"register response with an odd byte count {data[0]}")
    raise FrameError("read PDU without data")


def _write_single(fc: int, data: bytes) -> Pdu:
    if len(data) != 4:
        raise FrameError(f"write single carries 4 bytes (address, value), has {len(data)}")
    address, value = _u16(data, 0), _u16(data, 2)
    if fc == 0x05:
        if value not in (0x0000, 0xFF00):
            raise FrameError(f"write single coil value must be FF00 or 0000, is {value:04X}")
        return Pdu(fc, "request_or_echo", {"address": address, "value": value == 0xFF00})
    return Pdu(fc, "request_or_echo", {"address": address, "value": value})


def _write_multiple(fc: int, data: bytes) -> Pdu:
    if len(data) == 4:
        return Pdu(fc, "response", {"address": _u16(data, 0), "count": _u16(data, 2)})
    if len(data) < 5:
        raise FrameError(f"write multiple PDU too short ({len(data)} data bytes)")
    address, count, byte_count = _u16(data, 0), _u16(data, 2), data[4]
    values = data[5:]
    if byte_count != len(values):
        raise FrameError(f"byte count says {byte_count} bytes, {len(values)} follow")
    if fc == 0x10:
        if not 1 <= count <= MAX_WRITE_REGISTERS or byte_count != 2 * count:
            raise FrameError(f"write of {count} registers with byte count {byte_count}")
        regs = [_u16(values, i) for i in range(0, len(values), 2)]
        return Pdu(fc, "request", {"address": address, "count": count, "registers": regs})
    if not 1 <= count <= MAX_WRITE_BITS or byte_count != (count + 7) // 8:
        raise FrameError(f"write of {count} coils with byte count {byte_count}")
    return Pdu(fc, "request", {"address": address, "count": count, "bits": _bits(values)[:count]})


def _read_write(fc: int, data: bytes) -> Pdu:
    if data and data[0] == len(data) - 1 and data[0] % 2 == 0 and len(data) != 9:
        regs = [_u16(data, i) for i in range(1, len(data), 2)]
        return Pdu(fc, "response", {"byte_count": data[0], "registers": regs})
    if len(data) < 9:
        raise FrameError(f"read/write multiple registers PDU too short ({len(data)} bytes)")
    byte_count = data[8]
    values = data[9:]
    if byte_count != len(values) or byte_count != 2 * _u16(data, 6):
        raise FrameError(f"byte count says {byte_count} bytes, {len(values)} follow")
    return Pdu(
        fc,
        "request",
        {
            "read_address": _u16(data, 0),
            "read_count": _u16(data, 2),
            "write_address": _u16(data, 4),
            "write_count": _u16(data, 6),
            "registers": [_u16(values, i) for i in range(0, len(values), 2)],
        },
    )
