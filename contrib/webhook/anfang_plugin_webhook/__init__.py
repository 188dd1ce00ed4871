"""An Anfang plugin for JSON webhooks: ``codec`` reads the body, ``mapping`` makes events,
``signature`` authenticates, ``http11`` and ``transport`` serve HTTP, and ``plugin`` wires them
into a gateway instance."""

from .plugin import WebhookPlugin

__all__ = ["WebhookPlugin"]
