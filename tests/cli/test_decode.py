"""``anfang decode``: the real CLI, frames on stdin, one JSON line per frame."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import anfang, assert_clean_error, json_lines

GOOD = "1234181131010158"  # E131 zone 15 (ICT Protege manual)
BAD_SUM = "1234181131010157"
ARMED = "123418340103005F"  # R401 user 5, checksum F


def test_good_bad_good_gives_three_lines_and_exit_0() -> None:
    result = anfang("decode", "contact-id", stdin=f"{GOOD}\n{BAD_SUM}\n{ARMED}\n")
    assert result.returncode == 0, result.stderr
    first, second, third = json_lines(result.stdout)
    assert first["message"]["event_code"] == "131" and first["message"]["zone"] == "15"
    (event,) = first["events"]
    assert (event["kind"], event["phase"], event["source"]) == (
        "intrusion.perimeter",
        "alarm",
        "site/acct-1234/zone-15",
    )
    assert (event["code"], event["protocol"], event["raw"]) == ("CID:E131", "contact-id", GOOD)
    assert second == {
        "error": "bad checksum: expected 8, got 7 (digit sum 59 is not a multiple of 15)"
    }
    assert third["events"][0]["kind"] == "arming.armed" and third["events"][0]["user"] == "5"


def test_blank_lines_skipped_spaces_and_missing_final_newline_fine() -> None:
    result = anfang("decode", "contact-id", stdin=f"\n   \n1234 18 1131 01 015 8\r\n\n{ARMED}")
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    assert [line["message"]["event_code"] for line in lines] == ["131", "401"]
    assert lines[0]["events"][0]["raw"] == "1234 18 1131 01 015 8\r"  # only the newline goes


def test_every_line_bad_still_exits_0() -> None:
    result = anfang("decode", "contact-id", stdin="hello\n987618140103001_\n")
    assert result.returncode == 0, result.stderr
    errors = [line["error"] for line in json_lines(result.stdout)]
    assert errors == [
        "a Contact ID message has 16 digits, got 5",
        "'_' at position 16 is not a Contact ID digit (0-9, B-F)",
    ]


def test_hex_input() -> None:
    lines = f"{GOOD.encode().hex()}\nzz\n{' '.join(f'{b:02x}' for b in ARMED.encode())}\n"
    result = anfang("decode", "contact-id", "--hex", stdin=lines)
    assert result.returncode == 0, result.stderr
    first, second, third = json_lines(result.stdout)
    assert first["message"]["checksum"] == "8"
    assert second["error"].startswith("line is not hex digits (--hex)")
    assert third["message"]["checksum"] == "F"


def test_json_input_carries_line_breaks() -> None:
    lines = [json.dumps("1234 18 1131\n01 015 8"), json.dumps(BAD_SUM), "42", "{not json"]
    result = anfang("decode", "contact-id", "--json", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    first, second, third, fourth = json_lines(result.stdout)
    assert first["events"][0]["raw"] == "1234 18 1131\n01 015 8"
    assert "expected 8, got 7" in second["error"]
    assert third == {"error": "line is JSON int, not a string (--json)"}
    assert fourth["error"].startswith("line is not JSON (--json)")


def test_dtmf_codec() -> None:
    result = anfang("decode", "contact-id-dtmf", stdin="123418340103005C\n")
    assert result.returncode == 0, result.stderr
    (line,) = json_lines(result.stdout)
    assert line["message"]["checksum"] == "F" and line["events"][0]["code"] == "CID:R401"


def test_list_names_the_codecs_and_who_provides_them() -> None:
    result = anfang("decode", "--list")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert "contact-id" in rows and "contact-id-dtmf" in rows
    assert "SIA DC-05" in rows["contact-id"]
    assert "entry point contact_id (anfang-gateway" in rows["contact-id"]


def test_unknown_codec_exits_2_naming_the_known_ones() -> None:
    result = anfang("decode", "contact-idd", stdin=f"{GOOD}\n")
    assert_clean_error(result, 2)
    assert result.stdout == ""
    assert "unknown codec 'contact-idd'; known codecs: contact-id, contact-id-dtmf" in result.stderr


def test_bad_usage_exits_2() -> None:
    assert_clean_error(anfang("decode"), 2)
    assert_clean_error(anfang("decode", "contact-id", "--hex", "--json"), 2)
    assert_clean_error(anfang("decode", "contact-id", "--list"), 2)


def test_config_site_is_used_in_sources(tmp_path: Path) -> None:
    config = tmp_path / "anfang.yaml"
    config.write_text("site: {id: hq}\n")
    result = anfang("decode", "contact-id", "-c", config, stdin=f"{GOOD}\n")
    assert result.returncode == 0, result.stderr
    (line,) = json_lines(result.stdout)
    assert line["events"][0]["source"] == "hq/acct-1234/zone-15"


def test_broken_config_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "anfang.yaml"
    config.write_text("site: {id: 'no spaces allowed'}\n")
    result = anfang("decode", "contact-id", "-c", config, stdin=f"{GOOD}\n")
    assert result.returncode == 2
    assert result.stdout == "" and "site.id" in result.stderr


def test_a_codec_raising_outside_its_contract_is_reported_on_its_line() -> None:
    from gateway.cli.cmd_decode import _decode_line
    from gateway.sdk.codec import CodecError, CodecSpec, DecodeContext, Decoded

    def broken(data: bytes, ctx: DecodeContext) -> Decoded:
        raise TypeError("oops")

    spec = CodecSpec("broken", "raises the wrong type", broken, CodecError)
    result, bug = _decode_line(spec, b"anything", "text", "site")
    assert (result, bug) == ({"error": "codec bug: TypeError: oops"}, 1)
