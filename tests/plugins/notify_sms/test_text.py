"""The SMS text and the request templates, sans-IO."""

from __future__ import annotations

import pytest

from plugins.notify_sms import template
from plugins.notify_sms.text import sms_text


def test_a_short_text_is_subject_and_body() -> None:
    assert sms_text("Intrusion", "zone 3\n  east door", 1) == "Intrusion: zone 3 east door"
    assert sms_text("", "only a body", 1) == "only a body"


def test_gsm_text_fits_160_characters_in_one_segment() -> None:
    text = sms_text("A" * 100, "b" * 100, 1)
    assert len(text) == 160
    assert text.endswith("...")


def test_chinese_text_fits_70_characters_in_one_segment() -> None:
    text = sms_text("周界报警", "东" * 200, 1)
    assert len(text) == 70
    assert text.endswith("…")
    assert text.startswith("周界报警: 东")


def test_more_segments_hold_parts_of_67_or_153() -> None:
    assert len(sms_text("报警", "东" * 500, 3)) == 3 * 67
    assert len(sms_text("alarm", "x" * 1000, 2)) == 2 * 153
    assert sms_text("报警", "东" * 60, 3) == "报警: " + "东" * 60, "fits: not cut"


def test_templates_name_their_unknown_placeholder() -> None:
    with pytest.raises(ValueError, match=r"unknown placeholder \{txt\}; known: .*\{text\}"):
        template.check("{to}: {txt}", template.MESSAGE_FIELDS)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{to.__class__}", "not a placeholder name"),
        ("{0}", "not a placeholder name"),
        ("{}", "not a placeholder name"),
        ("{text!r}", "no format specs"),
        ("{text:>10}", "no format specs"),
        ("{text", "literal brace"),
        ("text}", "literal brace"),
    ],
)
def test_templates_refuse_anything_but_plain_names(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        template.check(text, template.MESSAGE_FIELDS)


def test_rendering_escapes_each_value_for_where_it_goes() -> None:
    checked = template.check("/send?to={to}&msg={text}&x={{1}}", ["to", "text"])
    values = {"to": "+86 138", "text": "a&b=c 报警"}
    assert (
        template.render(checked, values, template.url_escape)
        == "/send?to=%2B86%20138&msg=a%26b%3Dc%20%E6%8A%A5%E8%AD%A6&x={1}"
    )
    assert template.render("{text}", {"text": "a\r\nInjected: 1"}, template.header_escape) == (
        "a  Injected: 1"
    )


def test_extension_characters_count_two_septets_and_keep_the_text_gsm() -> None:
    """``[`` and ``]`` (every escalation subject) are GSM extension characters: two septets
    each, not a reason to measure the text as UCS-2 (70 characters), which cut the zone off."""
    subject = "[hold-up grade 1] not acknowledged: Panic Alarm"
    text = sms_text(subject, "Where: hq/acct-1234/zone-3 " + "x" * 300, 1)
    assert "Where: hq/acct-1234/zone-3" in text
    assert text.endswith("...")
    assert len(text) + 2 == 160, "158 characters, two of them two septets each"
    fits = sms_text("{a}", "b" * 153, 1)
    assert fits == "{a}: " + "b" * 153, "158 characters, 160 septets: not cut"
    assert sms_text("{a}", "b" * 154, 1).endswith("..."), "161 septets: cut"


def test_a_character_beyond_the_bmp_takes_two_ucs2_units() -> None:
    text = sms_text("报警", "🔥" * 100, 1)
    assert text.endswith("…")
    assert len(text.encode("utf-16-le")) // 2 <= 70
