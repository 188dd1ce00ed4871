"""Permission levels: each role may do everything the roles below it may (GB 50348 §6.6.4)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """``viewer`` < ``operator`` (commands, incident handling) < ``admin`` (config, users, audit).

    Comparisons follow that order, not the alphabet: as plain strings ``"admin" < "viewer"``,
    which would turn every ``>=`` check upside down. Comparing with a plain string is a
    ``TypeError`` for the same reason.
    """

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, required: Role) -> bool:
        """Whether a holder of this role may do what needs ``required``."""
        return self.rank >= required.rank

    def __lt__(self, other: object) -> bool:
        return self.rank < _rank_of(other)

    def __le__(self, other: object) -> bool:
        return self.rank <= _rank_of(other)

    def __gt__(self, other: object) -> bool:
        return self.rank > _rank_of(other)

    def __ge__(self, other: object) -> bool:
        return self.rank >= _rank_of(other)


_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


def _rank_of(other: object) -> int:
    if not isinstance(other, Role):
        raise TypeError(f"a role compares only with a role, not {other!r}")
    return _RANK[other]
