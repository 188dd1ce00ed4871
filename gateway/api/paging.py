"""Journal positions as the API hands them out: where the next page starts, and which
positions this journal never gave."""

from __future__ import annotations

from fastapi import HTTPException


def refuse_beyond_head(head: int, after: int | None) -> None:
    """A position past the journal's head was never handed out by this journal: the client's
    cursor belongs to another one (a replaced or restored gateway). Saying so beats answering
    nothing forever."""
    if after is not None and after > head:
        raise HTTPException(
            409,
            f"after={after} is beyond this journal's newest record (seq {head}): the position "
            "comes from another journal (a replaced or restored gateway). Start again from a "
            f"seq at most {head}, or 0 for everything",
        )


def next_after(after: int, last_seqs: list[int], limit: int, head: int) -> int:
    """Where the next page starts. A full page may have more after it; a shorter one searched
    the journal up to ``head`` (read before the query), so the next starts there even when
    nothing matched, and a filter that rarely matches is not searched from the start again on
    every poll."""
    last = last_seqs[-1] if last_seqs else after
    return last if len(last_seqs) == limit else max(last, head)
