"""Registration: the entry point's hook gives both codecs and the unmapped kind to discovery."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from gateway.sdk import Plugin
from gateway.sdk.codec import CodecError, CodecSpec, DecodeContext, Decoded
from gateway.sdk.discovery import discover
from gateway.sdk.hookspecs import hookimpl
from plugins.contact_id.errors import ContactIdError
from plugins.contact_id.hooks import CODEC, CODEC_DTMF


def _nothing(data: bytes, ctx: DecodeContext) -> Decoded:
    raise CodecError("toy codecs decode nothing")


TOY = CodecSpec("toy-proto", "decodes nothing", _nothing, CodecError)


class ToyPlugin(Plugin[Any]):
    name = "toy"
    codecs: ClassVar[tuple[CodecSpec, ...]] = (TOY,)


class Impostor:
    """A second distribution claiming the name contact-id, and one with a broken hook."""

    @hookimpl
    def anfang_codecs(self) -> list[CodecSpec]:
        return [CodecSpec("contact-id", "not the real one", _nothing, CodecError)]


class Broken:
    @hookimpl
    def anfang_codecs(self) -> list[CodecSpec]:
        raise RuntimeError("cannot import the vendor SDK")


class Sloppy:
    @hookimpl
    def anfang_codecs(self) -> list[object]:
        return ["contact-id"]


def test_entry_point_registers_both_codecs_and_the_kind() -> None:
    found = discover()
    assert found.codecs["contact-id"] is CODEC
    assert found.codecs["contact-id-dtmf"] is CODEC_DTMF
    assert found.codec_origins["contact-id"].startswith("entry point contact_id (anfang-gateway")
    assert "contact_id.unmapped" in found.kinds
    assert CODEC.error is ContactIdError
    assert CODEC.vectors is not None and CODEC.vectors.name == "contact_id.json"
    assert not [e for e in found.errors if "codec" in e]


def test_plugin_class_codecs_are_collected() -> None:
    found = discover(extra=[ToyPlugin])
    assert found.codecs["toy-proto"] is TOY
    assert found.codec_origins["toy-proto"] == "plugin toy"


def test_duplicate_name_is_an_error_and_the_first_is_kept() -> None:
    found = discover(extra=[Impostor()])
    assert found.codecs["contact-id"] is CODEC
    (error,) = [e for e in found.errors if "two codecs" in e]
    assert "'contact-id'" in error and "entry point contact_id" in error and "Impostor" in error


def test_a_broken_or_sloppy_hook_is_reported_not_fatal() -> None:
    found = discover(extra=[Broken(), Sloppy()])
    assert "contact-id" in found.codecs
    assert any("anfang_codecs failed: cannot import the vendor SDK" in e for e in found.errors)
    assert any("'contact-id' is not a CodecSpec" in e for e in found.errors)


def test_codec_names_are_dashed_lower_case() -> None:
    for bad in ("Contact-ID", "contact_id", "-x", "x-", ""):
        with pytest.raises(ValueError, match="lower-case words joined by '-'"):
            CodecSpec(bad, "", _nothing, CodecError)
