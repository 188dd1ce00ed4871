"""The garbage collector's settings for a running gateway: short pauses over a little memory.

A full collection walks every tracked object not frozen; with 100 stream clients, a hundred
panels' incidents and the journal's tail that took 33–58 ms with the event loop stopped, four
times in a 20 s run of ``bench/api.py`` (CPython's default starts one every 10 gen-1
collections). Objects here die by reference count, not by the collector, so full collections
find little: one every 100 gen-1 collections (every minute or so at 1,000 events/s) keeps the
memory they would reclaim small and took the longest pause in that run to 12 ms.
"""

from __future__ import annotations

import gc

FULL_EVERY_GEN1 = 100
"""Gen-1 collections between two full collections (CPython's default: 10)."""


def settle_after_start() -> None:
    """Freeze what starting built (modules, schemas, tables: alive as long as the process, so
    never worth walking again) and make full collections rarer."""
    gc.freeze()
    gen0, gen1, _ = gc.get_threshold()
    gc.set_threshold(gen0, gen1, FULL_EVERY_GEN1)
