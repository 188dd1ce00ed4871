"""``anfang send sia-dc09`` against a real ``anfang run``, over TCP and UDP, plain and AES."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from tests.cli.helpers import anfang
from tests.plugins.sia_dc09.test_crash import free_port, start

KEY = "00112233445566778899AABBCCDDEEFF"


def test_send_proves_the_path_and_says_when_it_does_not(tmp_path: Path) -> None:
    tcp, udp = free_port(), free_port()
    cfg = tmp_path / "anfang.yaml"
    cfg.write_text(
        "site: {id: hq}\napi: {enabled: false}\nplugins:\n"
        f"  - {{id: rx, plugin: sia_dc09, config: {{tcp_port: {tcp}, udp_port: {udp}, "
        f'accounts: [{{account: "1234"}}, {{account: "5678", key_hex: "{KEY}"}}, '
        '{account: "9ABC", key_ascii: "AAAAAAAAAAAAAAAA", timezone: Pacific/Kiritimati}]}}\n'
    )
    gateway = start(cfg, tmp_path / "data", tcp)
    try:
        base = ("send", "sia-dc09", "--host", "127.0.0.1")
        plain = anfang(
            *base, "--port", str(tcp), "--account", "1234", "--code", "BA", "--zone", "3"
        )
        assert plain.returncode == 0, plain.stdout + plain.stderr
        report = json.loads(plain.stdout)
        assert report["verified"] is True and report["token"] == "ACK"
        assert '"SIA-DCS"0001L0#1234[#1234|NBA3]' in report["sent"]

        secret = anfang(
            *base, "--port", str(udp), "--udp", "--account", "5678", "--key-hex", KEY, "--seq", "7"
        )
        assert secret.returncode == 0, secret.stdout + secret.stderr
        report = json.loads(secret.stdout)
        assert report["token"] == "*ACK" and "receiver_time" in report

        wrong = anfang(
            *base, "--port", str(tcp), "--account", "5678", "--key-hex", KEY[::-1], "--seq", "8"
        )
        assert wrong.returncode == 1
        report = json.loads(wrong.stdout)
        assert report["verified"] is False and "answered NAK" in report["problem"]

        usage = anfang(*base, "--port", str(tcp), "--account", "1234", "--key-hex", "XYZ")
        assert usage.returncode == 2 and "hex" in usage.stderr

        # An encrypted panel that stamps local time (UTC+14 here): a UTC stamp is 14 h out of
        # the receiver's window (NAK), the panel's own zone is right.
        local = (*base, "--port", str(tcp), "--account", "9ABC", "--key-ascii", "A" * 16)
        assert anfang(*local, "--seq", "9").returncode == 1
        right = anfang(*local, "--seq", "10", "--timezone", "Pacific/Kiritimati")
        assert right.returncode == 0, right.stdout + right.stderr
        bad_zone = anfang(*local, "--timezone", "Mars/Olympus")
        assert bad_zone.returncode == 2 and "IANA time zone" in bad_zone.stderr
    finally:
        gateway.send_signal(signal.SIGINT)
        gateway.wait(timeout=30)
