"""The collector settings `anfang run` applies once the gateway has started."""

from __future__ import annotations

import gc

from gateway.host.collector import FULL_EVERY_GEN1, settle_after_start


def test_settling_freezes_what_start_built_and_makes_full_collections_rarer() -> None:
    before = gc.get_threshold()
    try:
        settle_after_start()
        assert gc.get_freeze_count() > 0
        gen0, gen1, full = gc.get_threshold()
        assert (gen0, gen1) == before[:2], "the young generations keep their rhythm"
        assert full == FULL_EVERY_GEN1 > before[2]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
