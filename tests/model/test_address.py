from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from gateway.model.address import (
    Address,
    AddressError,
    AddressStr,
    GbCode,
    GbCodeAllocator,
    gb_type_for_kind,
)


@pytest.mark.parametrize("text", ["hq/panel-1", "hq/panel-1/zone-12", "bank.7/cam_lobby/ch:1"])
def test_valid_addresses_round_trip(text: str) -> None:
    assert str(Address.parse(text)) == text


@pytest.mark.parametrize(
    "text", ["hq", "hq/", "/x", "hq/a/b/c", "hq/a b", "hq/-x", "hq/a+b", "hq/a#", "x" * 65 + "/d"]
)
def test_invalid_addresses_say_which_rule(text: str) -> None:
    with pytest.raises(AddressError, match="must be"):
        Address.parse(text)


def test_address_field_in_a_model_reports_the_rule() -> None:
    class M(BaseModel):
        a: AddressStr

    with pytest.raises(ValidationError, match="site/device"):
        M(a="nope")


def test_point_and_device_relations() -> None:
    zone = Address.parse("hq/panel-1/zone-3")
    assert str(zone.device_address) == "hq/panel-1"
    assert str(Address.parse("hq/panel-1").child("zone-4")) == "hq/panel-1/zone-4"
    with pytest.raises(AddressError):
        zone.child("x")


def test_gb_code_fields() -> None:
    code = GbCode.parse("34020000001320000002")
    assert (code.center, code.industry, code.type_code, code.network, code.serial) == (
        "34020000",
        "00",
        132,
        0,
        2,
    )
    assert str(code) == "34020000001320000002"
    assert code.is_front_end
    assert not GbCode.parse("34020000002000000001").is_front_end


@pytest.mark.parametrize("bad", ["3402000000132000000", "3402000000132000000x", ""])
def test_gb_code_must_be_20_digits(bad: str) -> None:
    with pytest.raises(AddressError, match="20 digits"):
        GbCode.parse(bad)


def test_allocator_assigns_by_kind_and_skips_pinned_codes() -> None:
    alloc = GbCodeAllocator("3402000000")
    alloc.reserve("34020000001320000001")
    first_ipc = alloc.assign("ipc")
    assert first_ipc == "34020000001320000002"
    assert alloc.assign("camera") == "34020000001310000001"
    assert alloc.assign("zone")[10:13] == "134"
    assert alloc.assign("something-new")[10:13] == "139"
    assert len(alloc.assign("ipc")) == 20
    with pytest.raises(AddressError, match="twice"):
        alloc.reserve(first_ipc)


def test_allocator_rejects_bad_prefix_and_network() -> None:
    with pytest.raises(AddressError, match="10 digits"):
        GbCodeAllocator("34020")
    with pytest.raises(AddressError, match="0-9"):
        GbCodeAllocator("3402000000", network=12)


def test_type_codes_follow_annex_d() -> None:
    assert gb_type_for_kind("dvr") == 111
    assert gb_type_for_kind("nvr") == 118
    assert gb_type_for_kind("platform") == 200
    assert gb_type_for_kind("alarm_output") == 135
