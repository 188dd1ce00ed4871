"""How the connector reaches the broker: protocol version, login, TLS, Last Will.

aiomqtt has no automatic reconnect; the plugin's run loop makes a new client per attempt from
these settings (see plugin.py), so nothing of a broken session survives into the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

import aiomqtt

from plugins.mqtt.config import MqttConfig, TlsConfig

OFFLINE = b"offline"
ONLINE = b"online"
EXTRA_INFLIGHT = 64
"""paho's own in-flight limit is the window plus room for state topics and command answers,
so those never queue behind events and the window stays the connector's to measure."""


async def reachable(host: str, port: int, timeout_s: float) -> None:
    """Raise OSError unless a TCP connection to the broker opens.

    Tried before each MQTT connect so the common outage (nothing listening) fails here, in
    asyncio, rather than inside paho: aiomqtt registers the socket of a refused connect with
    the event loop from paho's thread after it is already closed, which logs an asyncio error
    and could attach a writer to a reused descriptor."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except TimeoutError:
        raise OSError(f"no answer from {host}:{port} within {timeout_s:g} s") from None
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


def tls_context(tls: TlsConfig) -> ssl.SSLContext:
    """Reads certificate files: call it in a thread (``asyncio.to_thread``)."""
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=str(tls.ca_file) if tls.ca_file else None
    )
    if tls.cert_file is not None and tls.key_file is not None:
        context.load_cert_chain(
            str(tls.cert_file),
            str(tls.key_file),
            password=tls.key_password.get_secret_value() if tls.key_password else None,
        )
    context.check_hostname = tls.verify_hostname
    return context


def client_for(
    config: MqttConfig,
    client_id: str,
    status_topic: str,
    context: ssl.SSLContext | None,
    commands_concurrent: int,
) -> aiomqtt.Client:
    v5 = config.protocol == "5"
    kwargs: dict[str, Any] = {}
    if not v5:
        kwargs["clean_session"] = True  # commands queued while we were away are not replayed
    client = aiomqtt.Client(
        config.host,
        config.port,
        identifier=client_id,
        username=config.username,
        password=config.password.get_secret_value() if config.password else None,
        protocol=aiomqtt.ProtocolVersion.V5 if v5 else aiomqtt.ProtocolVersion.V311,
        will=aiomqtt.Will(status_topic, OFFLINE, qos=1, retain=True),
        keepalive=config.keepalive_s,
        timeout=config.publish_timeout_s,
        max_inflight_messages=config.window + EXTRA_INFLIGHT,
        tls_context=context,
        **kwargs,
    )
    # aiomqtt warns once per publish beyond 10 pending calls; a window is pending by design.
    client.pending_calls_threshold = config.window + commands_concurrent + EXTRA_INFLIGHT
    return client
