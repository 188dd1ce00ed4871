"""The block planner: the fewest reads that cover a set of points.

Points of one table, sorted by address, are joined into one read while the read stays within
``max_registers_per_read`` (``max_bits_per_read`` for coils and inputs) and the unused span
between two points is at most ``max_gap``. Greedy joining in address order is optimal for this
(each block takes as many following points as fit, so no plan has fewer blocks).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from plugins.modbus.profile import Limits, Point, Profile, Table


@dataclass(frozen=True, slots=True)
class Block:
    table: Table
    start: int
    count: int
    points: tuple[str, ...]

    @property
    def end(self) -> int:
        return self.start + self.count

    def describe(self) -> str:
        return f"{self.table} {self.start}..{self.end - 1}"


def plan_blocks(
    profile: Profile, names: Iterable[str], limits: Limits | None = None
) -> list[Block]:
    limits = limits or profile.limits
    by_table: dict[Table, list[tuple[str, Point]]] = {}
    for name in names:
        point = profile.points[name]
        by_table.setdefault(point.table, []).append((name, point))
    blocks: list[Block] = []
    for table in Table:
        items = sorted(by_table.get(table, []), key=lambda item: item[1].address)
        limit = limits.max_bits_per_read if table.is_bits else limits.max_registers_per_read
        blocks.extend(_join(table, items, limit, limits.max_gap))
    return blocks


def _join(table: Table, items: list[tuple[str, Point]], limit: int, max_gap: int) -> list[Block]:
    out: list[Block] = []
    start = end = -1
    names: list[str] = []
    for name, point in items:
        p_end = point.address + point.size
        if names and point.address - end <= max_gap and p_end - start <= limit:
            end = max(end, p_end)
            names.append(name)
            continue
        if names:
            out.append(Block(table, start, end - start, tuple(names)))
        start, end, names = point.address, p_end, [name]
    if names:
        out.append(Block(table, start, end - start, tuple(names)))
    return out


def split_block(profile: Profile, block: Block) -> list[Block]:
    """A block the device refused (illegal address): try its points without gaps, then singly."""
    gapless = plan_blocks(profile, block.points, profile.limits.model_copy(update={"max_gap": 0}))
    if len(gapless) > 1:
        return gapless
    return [plan_blocks(profile, [name])[0] for name in block.points]
