"""``anfang decode sia-dc09 -c anfang.yaml``: a captured frame decoded as the configured
receiver would decode it (the real CLI, frames on stdin)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from gateway.config.loader import load_config
from gateway.sdk.codec import DecodeContext
from gateway.sdk.discovery import discover
from plugins.sia_dc09.codec import decode_as_receiver
from plugins.sia_dc09.config import ReceiverConfig
from plugins.sia_dc09.dc09 import Dc09Error, Key, build_frame
from tests.cli.helpers import anfang, assert_clean_error, json_lines
from tests.plugins.sia_dc09.test_receiver import KEY_TEXT, send_tcp, start_gateway

KEY = "000102030405060708090A0B0C0D0E0F"
STAMP = datetime(2026, 11, 23, 6, 30, 0, tzinfo=UTC)
"""Long past by the time the test runs: decoding checks no timestamp window."""

CONFIG = """site: {id: hq}
plugins:
  - id: rx
    plugin: sia_dc09
    config:
      tcp_port: 0
      accounts:
        - {account: "1234", site: branch-7, key_hex: "${PANEL_KEY}"}
        - {account: "5678", timezone: Asia/Shanghai}
"""


def frame(seq: int, account: str, data: str, **kw: Any) -> str:
    built = build_frame("SIA-DCS", seq, account, data, timestamp=STAMP, **kw)
    return built.strip().decode("ascii")


def decode(config: Path, *frames: str, args: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    result = anfang(
        "decode", "sia-dc09", "-c", config, *args, stdin="\n".join(frames) + "\n",
        env={"PANEL_KEY": KEY},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json_lines(result.stdout)


def test_an_encrypted_frame_decodes_with_the_accounts_key_and_site(tmp_path: Path) -> None:
    config = tmp_path / "anfang.yaml"
    config.write_text(CONFIG)
    encrypted = frame(7, "1234", "#1234|Nri1/BA012", key=Key.from_hex(KEY))

    (keyless,) = json_lines(anfang("decode", "sia-dc09", stdin=encrypted + "\n").stdout)
    assert keyless == {"error": "encrypted message, but no key for account 1234"}

    (line,) = decode(config, encrypted)
    message = line["message"]
    assert (message["encrypted"], message["data"]) == (True, "#1234|Nri1/BA012")
    assert (message["account_known"], message["device"], message["answer"]) == (
        True,
        "branch-7/acct-1234",
        "ACK",
    )
    (event,) = line["events"]
    assert (event["kind"], event["source"], event["area"]) == (
        "intrusion",
        "branch-7/acct-1234/zone-12",
        "1",
    )
    assert event["occurred_at"] == "2026-11-23T06:30:00Z"


def test_what_the_receiver_would_refuse_says_so(tmp_path: Path) -> None:
    config = tmp_path / "anfang.yaml"
    config.write_text(CONFIG.replace("tcp_port: 0", "tcp_port: 0\n      strict: true"))
    plain_for_keyed = frame(8, "1234", "#1234|Nri1/BA012")
    unknown = frame(9, "9999", "#9999|Nri1/FA003")
    # A fixed pad: what a wrong key decrypts to is then the same every run (with a random
    # pad it sometimes held a '|', and the parser stopped at another point of the garbage).
    wrong_key = frame(
        10, "1234", "#1234|Nri1/BA012", key=Key.from_hex("FF" * 16), pad=lambda n: b"A" * n
    )

    first, second, third = decode(config, plain_for_keyed, unknown, wrong_key)
    assert first["message"]["answer"] == "DUH: unencrypted frame for an account with a key"
    assert first["events"] == []
    assert second["message"]["answer"] == "DUH: frame from an unknown account (strict)"
    assert second["message"]["device"] == "hq/unknown-9999" and second["events"] == []
    assert third == {"error": "bad key or corrupt ciphertext: no '|' ends the pad"}


def test_an_unknown_account_decodes_under_the_site_when_not_strict(tmp_path: Path) -> None:
    config = tmp_path / "anfang.yaml"
    config.write_text(CONFIG)
    (line,) = decode(config, frame(9, "9999", "#9999|Nri1/FA003"))
    assert (line["message"]["account_known"], line["message"]["answer"]) == (False, "ACK")
    assert line["events"][0]["source"] == "hq/unknown-9999/zone-3"


def test_a_panel_on_local_time_is_read_in_its_zone(tmp_path: Path) -> None:
    config = tmp_path / "anfang.yaml"
    config.write_text(CONFIG)
    # The panel stamps its own wall clock, 8 hours ahead of UTC, as if it were UTC.
    sent = (
        build_frame("SIA-DCS", 11, "5678", "#5678|Nri1/BA001", timestamp=STAMP + timedelta(hours=8))
        .strip()
        .decode("ascii")
    )
    (line,) = decode(config, sent)
    assert line["events"][0]["occurred_at"] == "2026-11-23T06:30:00Z"
    (plain,) = json_lines(anfang("decode", "sia-dc09", stdin=sent + "\n").stdout)
    assert plain["events"][0]["occurred_at"] == "2026-11-23T14:30:00Z"  # read as UTC


def test_the_instance_is_chosen_when_several_could_decode(tmp_path: Path) -> None:
    config = tmp_path / "anfang.yaml"
    config.write_text(
        CONFIG + "  - id: rx2\n    plugin: sia_dc09\n    config: {tcp_port: 0, "
        "accounts: [{account: '1234', site: branch-9}]}\n"
    )
    sent = frame(12, "1234", "#1234|Nri1/BA012")
    both = anfang("decode", "sia-dc09", "-c", config, stdin=sent, env={"PANEL_KEY": KEY})
    assert_clean_error(both, 2)
    assert "rx, rx2" in both.stderr and "--instance" in both.stderr

    (line,) = decode(config, sent, args=("--instance", "rx2"))
    assert line["events"][0]["source"] == "branch-9/acct-1234/zone-12"

    wrong = anfang(
        "decode", "sia-dc09", "-c", config, "--instance", "nope", stdin=sent,
        env={"PANEL_KEY": KEY},
    )  # fmt: skip
    assert_clean_error(wrong, 2)
    assert "nope" in wrong.stderr and "rx, rx2" in wrong.stderr
    assert_clean_error(anfang("decode", "sia-dc09", "--instance", "rx", stdin=sent), 2)


def test_a_codec_without_a_configured_form_keeps_the_config_site(tmp_path: Path) -> None:
    config = tmp_path / "anfang.yaml"
    config.write_text(CONFIG)
    result = anfang(
        "decode", "contact-id", "-c", config, stdin="1234181131010158\n",
        env={"PANEL_KEY": KEY},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (line,) = json_lines(result.stdout)
    assert line["events"][0]["source"] == "hq/acct-1234/zone-15"


def test_instance_is_refused_for_a_codec_that_decodes_the_same_everywhere(tmp_path: Path) -> None:
    config = tmp_path / "anfang.yaml"
    config.write_text(CONFIG)
    result = anfang(
        "decode", "contact-id", "-c", config, "--instance", "rx", stdin="1234181131010158\n",
        env={"PANEL_KEY": KEY},
    )  # fmt: skip
    assert_clean_error(result, 2)
    assert "contact-id decodes the same for every instance" in result.stderr


async def test_the_decoder_answers_as_the_running_receiver_does(tmp_path: Path) -> None:
    """The same frames to a real receiver over TCP and to its configured decoder: every frame
    the decoder reads gets the answer it predicts, and every frame it cannot read is refused."""
    now = datetime.now(UTC)
    frames = [
        build_frame("SIA-DCS", 1, "1234", "#1234|Nri1/BA012", timestamp=now),
        build_frame("SIA-DCS", 2, "5678", "#5678|Nri1/BA001", timestamp=now),  # plain, keyed
        build_frame(
            "SIA-DCS", 3, "5678", "#5678|NFA002", timestamp=now, key=Key.from_hex(KEY_TEXT)
        ),
        build_frame("SIA-DCS", 4, "4321", "#4321|NBA003", timestamp=now),  # unknown, strict
        build_frame("SIA-DCS", 5, "1234", "#1234|Nri1/", timestamp=now),  # no event in it
        build_frame(
            "SIA-DCS", 6, "5678", "#5678|NFA002", timestamp=now, key=Key.from_hex("AB" * 16)
        ),
        build_frame("SIA-DCS", 7, "9ABC", "#9ABC|NTA004", timestamp=now),
    ]
    gw = await start_gateway(tmp_path, strict=True)
    try:
        answers = await send_tcp(gw, *frames)
    finally:
        await gw.stop()
    config = load_config(tmp_path / "anfang.yaml", discover().classes).plugin_configs["rx"]
    assert isinstance(config, ReceiverConfig)
    decode = decode_as_receiver(config, "hq")

    predicted = []
    for frame in frames:
        try:
            decoded = decode(frame, DecodeContext(site="hq", now=now))
        except Dc09Error:
            predicted.append("refused")
            continue
        predicted.append(decoded.message["answer"].split(":")[0])
    tokens = [answer.split(b'"')[1].decode().lstrip("*") for answer in answers]  # ACK, NAK, DUH
    actual = ["refused" if token == "NAK" else token for token in tokens]
    assert predicted == ["ACK", "DUH", "ACK", "DUH", "DUH", "refused", "ACK"], predicted
    assert actual == predicted


def test_a_disabled_instance_does_not_decode(tmp_path: Path) -> None:
    config = tmp_path / "anfang.yaml"
    config.write_text(
        CONFIG.replace("    plugin: sia_dc09\n", "    plugin: sia_dc09\n    enabled: false\n")
        + "  - id: rx2\n    plugin: sia_dc09\n    config: {tcp_port: 0, "
        "accounts: [{account: '1234', site: branch-9}]}\n"
    )
    (line,) = decode(config, frame(12, "1234", "#1234|Nri1/BA012"))
    assert line["events"][0]["source"] == "branch-9/acct-1234/zone-12"  # rx2, not rx


def test_an_instance_whose_config_the_codec_cannot_take_is_a_usage_error() -> None:
    """Two plugins may offer the same codec; only its own plugin's config configures it."""
    from gateway.cli.cmd_decode import _configured_decoder
    from gateway.cli.common import UsageError
    from gateway.config.loader import LoadedConfig
    from gateway.config.schema import GatewayConfig
    from gateway.sdk.discovery import InstalledPlugins
    from plugins.sia_dc09.codec import CODECS
    from plugins.sia_dc09.plugin import SiaDc09Plugin

    class OtherConfig(BaseModel):
        pass

    class Other(SiaDc09Plugin):
        name = "other_receiver"

    gateway = GatewayConfig.model_validate(
        {"site": {"id": "hq"}, "plugins": [{"id": "x", "plugin": "other_receiver"}]}
    )
    loaded = LoadedConfig(gateway, "test", plugin_configs={"x": OtherConfig()})
    installed = InstalledPlugins(classes={"other_receiver": Other})
    with pytest.raises(UsageError, match="instance x cannot decode sia-dc09"):
        _configured_decoder(CODECS[0], installed, loaded, None)
