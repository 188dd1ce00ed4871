"""Ademco Contact ID (SIA DC-05): a sans-IO codec, the event-code table and the event mapping.

``codec`` parses a 16-digit message, ``codes`` holds what each event code means, ``mapping``
turns a message into canonical events and ``hooks`` registers the codec for ``anfang decode``.
The receiving side (a DC-09 ``ADM-CID`` receiver, a serial line) lives with its transport.
"""

from plugins.contact_id.codec import ContactIdMessage, Notation, Qualifier, parse
from plugins.contact_id.errors import ContactIdError

__all__ = ["ContactIdError", "ContactIdMessage", "Notation", "Qualifier", "parse"]
