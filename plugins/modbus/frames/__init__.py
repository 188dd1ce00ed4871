"""Sans-IO Modbus frames: CRC/LRC, RTU / ASCII / TCP ADUs and PDUs (bytes in, typed fields out).

No sockets and no pymodbus here: the same code serves ``anfang decode``, the conformance vectors
and the fuzz tests. The live link goes through :mod:`plugins.modbus.adapter`.
"""

from plugins.modbus.frames.adu import Adu, decode_ascii, decode_rtu, decode_tcp, encode_rtu
from plugins.modbus.frames.checks import crc16_modbus, lrc
from plugins.modbus.frames.errors import FrameError
from plugins.modbus.frames.pdu import Pdu, decode_pdu

__all__ = [
    "Adu",
    "FrameError",
    "Pdu",
    "crc16_modbus",
    "decode_ascii",
    "decode_pdu",
    "decode_rtu",
    "decode_tcp",
    "encode_rtu",
    "lrc",
]
