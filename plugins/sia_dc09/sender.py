"""``anfang send sia-dc09``: act as a panel once, to prove a receiver path end to end.

Builds a SIA-DCS (or ADM-CID) frame with the current UTC time, sends it over TCP or UDP, and
checks the answer the way a panel would: CRC and length, the echoed sequence and account, and
for an encrypted request a ``*ACK`` that decrypts with the same key to a plausible time.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import zoneinfo
from datetime import UTC, datetime

from gateway.sdk.sender import SenderSpec, SendResult
from plugins.sia_dc09.dc09 import Dc09Error, Key, build_frame
from plugins.sia_dc09.dc09.response import parse_response


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", required=True, help="receiver address")
    p.add_argument("--port", type=int, required=True, help="receiver port")
    p.add_argument("--account", required=True, help="panel account (3-16 hex digits)")
    p.add_argument("--code", default="RX", help="SIA code (default RX, manual test)")
    p.add_argument("--zone", default="", help="zone or user number for the code")
    p.add_argument("--area", default=None, help="area (ri modifier)")
    p.add_argument("--cid", default=None, help="send ADM-CID instead, e.g. '1131 01 015'")
    p.add_argument("--seq", type=int, default=1, help="sequence number 1-9999 (default 1)")
    keys = p.add_mutually_exclusive_group()
    keys.add_argument("--key-hex", default=None, help="AES key as 32/48/64 hex digits")
    keys.add_argument("--key-ascii", default=None, help="AES key as 16/24/32 ASCII characters")
    p.add_argument(
        "--timezone",
        default=None,
        metavar="ZONE",
        help="stamp local time in this IANA zone, as a panel with the account's 'timezone:' "
        "does (default: UTC, as DC-09 has it)",
    )
    p.add_argument("--udp", action="store_true", help="send over UDP instead of TCP")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the answer")


def frame_from(args: argparse.Namespace, now: datetime) -> tuple[bytes, Key | None]:
    key = None
    try:
        if args.key_hex:
            key = Key.from_hex(args.key_hex)
        elif args.key_ascii:
            key = Key.from_ascii(args.key_ascii)
        if args.cid:
            token, data = "ADM-CID", f"#{args.account}|{args.cid}"
        else:
            area = f"ri{args.area}/" if args.area else ""
            token, data = "SIA-DCS", f"#{args.account}|N{area}{args.code}{args.zone}"
        frame = build_frame(token, args.seq, args.account, data, timestamp=now, key=key)
    except Dc09Error as exc:
        raise ValueError(str(exc)) from None
    return frame, key


def stamp(now: datetime, zone: str | None) -> datetime:
    """The time a panel would write: UTC, or its local wall-clock time written as if it were
    UTC (the vendor quirk the receiver's per-account ``timezone`` undoes)."""
    if zone is None:
        return now
    try:
        local = now.astimezone(zoneinfo.ZoneInfo(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"--timezone {zone!r} is not an IANA time zone (e.g. Europe/Amsterdam)"
        ) from None
    return local.replace(tzinfo=UTC)


async def send(args: argparse.Namespace) -> SendResult:
    now = datetime.now(UTC)
    frame, key = frame_from(args, stamp(now, args.timezone))
    started = time.perf_counter()
    answer = await (_udp if args.udp else _tcp)(args, frame)
    rtt_ms = round((time.perf_counter() - started) * 1000, 1)
    result: SendResult = {
        "sent": frame.strip().decode("ascii", "replace"),
        "answer": answer.strip().decode("ascii", "replace") if answer else None,
        "rtt_ms": rtt_ms,
        "verified": False,
    }
    if not answer:
        result["problem"] = f"no answer within {args.timeout:g} s"
        return result
    try:
        response = parse_response(answer, key)
    except Dc09Error as exc:
        result["problem"] = f"the answer is not a valid DC-09 response: {exc}"
        return result
    result["token"] = ("*" if response.encrypted else "") + response.token
    if response.timestamp is not None:
        result["receiver_time"] = response.timestamp.isoformat()
    seq = f"{args.seq:04d}"
    if response.token != "ACK":
        result["problem"] = f"the receiver answered {response.token}"
    elif not response.answers(seq, args.account):
        result["problem"] = "the ACK does not echo this sequence number and account"
    elif key is not None and not response.encrypted:
        result["problem"] = "an encrypted request must be answered with *ACK"
    else:
        result["verified"] = True
    return result


async def _tcp(args: argparse.Namespace, frame: bytes) -> bytes:
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(args.host, args.port), args.timeout
    )
    try:
        writer.write(frame)
        await writer.drain()
        try:
            return await asyncio.wait_for(reader.readuntil(b"\r"), args.timeout)
        except (TimeoutError, asyncio.IncompleteReadError):
            return b""
    finally:
        writer.close()


async def _udp(args: argparse.Namespace, frame: bytes) -> bytes:
    loop = asyncio.get_running_loop()
    got: asyncio.Future[bytes] = loop.create_future()

    class Panel(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: object) -> None:
            if not got.done():
                got.set_result(data)

    transport, _ = await loop.create_datagram_endpoint(Panel, remote_addr=(args.host, args.port))
    try:
        transport.sendto(frame)
        return await asyncio.wait_for(got, args.timeout)
    except TimeoutError:
        return b""
    finally:
        transport.close()


SENDER = SenderSpec(
    name="sia-dc09",
    description="one SIA DC-09 frame (SIA-DCS or ADM-CID, plain or AES), answer verified",
    arguments=arguments,
    send=send,
)
