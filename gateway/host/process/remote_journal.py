"""The journal as an isolated plugin sees it: the files to read, the head, appends by the host.

Inline, a plugin reaches ``ctx.journal`` for what is not an event of its own: a receiver reads
back what it journaled before a restart, so a retransmission whose ACK was lost is recognised
(sia_dc09, receiver_line); the MQTT connector publishes the chain head, measures its backlog
and puts refused commands on record. Without it in a child those plugins quietly did less.
Reading needs no host: SQLite in WAL mode lets this process read the journal's file while the
host's writer writes it. Writing stays the host's: an append is a request, carried out with the
host's journal, as ``publish`` is.
"""

from __future__ import annotations

from pathlib import Path

from gateway.host.process.remote import call
from gateway.host.process.rpc import Endpoint
from gateway.journal import JournalReader, chain
from gateway.model.command import Command, CommandResult

APPENDABLE: dict[str, type[Command] | type[CommandResult]] = {
    "command": Command,
    "result": CommandResult,
}
"""What a plugin may journal directly besides its events (which go through ``publish``)."""


class RemoteJournal:
    """The members of :class:`~gateway.journal.Journal` a plugin uses, from a child."""

    def __init__(self, link: Endpoint, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._link = link
        self._reader: JournalReader | None = None

    @property
    def reader(self) -> JournalReader:
        """A read-only connection of this process's own, opened on first use."""
        if self._reader is None:
            self._reader = JournalReader.open(self.data_dir)
        return self._reader

    def head(self) -> chain.ChainHead:
        """The newest committed record's seq and hash, as the file has it now."""
        return self.reader.head()

    @property
    def committed_seq(self) -> int:
        return self.head().seq

    async def append(self, payload: Command | CommandResult) -> int:
        """Journal a command or a command result in the host; its seq once durable."""
        for name, model in APPENDABLE.items():
            if isinstance(payload, model):
                record = payload.model_dump(mode="json")
                return int(await call(self._link, "append", type=name, record=record))
        raise TypeError(
            f"an isolated plugin journals events with ctx.publish; ctx.journal.append takes "
            f"a Command or CommandResult, not a {type(payload).__name__}"
        )

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
