"""TLS (server verified against our CA, client certificate required) and username/password,
against mosquitto configured for each; wrong credentials are retried, counted, never fatal."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from gateway.config.errors import ConfigError
from tests.plugins.mqtt.broker import Broker
from tests.plugins.mqtt.helpers import (
    WAIT_S,
    connector,
    eventually,
    gateway_for,
    intrusion,
    running,
)


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_pki(d: Path) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by it."""
    d.mkdir()
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=anfang-test-ca",
        "-keyout",
        str(d / "ca.key"),
        "-out",
        str(d / "ca.crt"),
    )
    for name, ext in (
        ("server", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ("client", "extendedKeyUsage=clientAuth"),
    ):
        openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            f"/CN={name}",
            "-keyout",
            str(d / f"{name}.key"),
            "-out",
            str(d / f"{name}.csr"),
        )
        (d / f"{name}.ext").write_text(ext + "\n")
        openssl(
            "x509",
            "-req",
            "-in",
            str(d / f"{name}.csr"),
            "-CA",
            str(d / "ca.crt"),
            "-CAkey",
            str(d / "ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            str(d / f"{name}.ext"),
            "-out",
            str(d / f"{name}.crt"),
        )
    return d


async def test_tls_with_a_client_certificate(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    broker = Broker(
        tmp_path / "mosquitto",
        extra=(
            f"cafile {pki / 'ca.crt'}\ncertfile {pki / 'server.crt'}\n"
            f"keyfile {pki / 'server.key'}\nrequire_certificate true\nallow_anonymous true"
        ),
    ).start()
    try:
        gw = gateway_for(
            tmp_path,
            {
                "port": broker.port,
                "tls": {
                    "ca_file": str(pki / "ca.crt"),
                    "cert_file": str(pki / "client.crt"),
                    "key_file": str(pki / "client.key"),
                },
            },
        )
        async with running(gw):
            plugin = connector(gw)
            async with asyncio.timeout(WAIT_S):
                await plugin.connected.wait()
            assert plugin.ctx.counters["connection_errors"] == 0
            await gw.journal.append(intrusion(1))
            await eventually(lambda: plugin.delivery is not None and plugin.delivery.delivered >= 2)
    finally:
        broker.stop()


async def test_tls_refuses_a_broker_our_ca_did_not_sign(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    other = make_pki(tmp_path / "other")
    broker = Broker(
        tmp_path / "mosquitto",
        extra=f"certfile {pki / 'server.crt'}\nkeyfile {pki / 'server.key'}\nallow_anonymous true",
    ).start()
    try:
        gw = gateway_for(
            tmp_path,
            {
                "port": broker.port,
                "tls": {"ca_file": str(other / "ca.crt")},
                "reconnect_min_s": 0.05,
                "reconnect_max_s": 0.2,
            },
        )
        async with running(gw):
            plugin = connector(gw)
            await eventually(lambda: plugin.ctx.counters["connection_errors"] >= 2)
            assert not plugin.connected.is_set()
            assert gw.runners["mqtt"].status.restarts == 0
    finally:
        broker.stop()


async def test_username_and_password(tmp_path: Path) -> None:
    workdir = tmp_path / "mosquitto"
    workdir.mkdir()
    passwords = workdir / "passwd"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwords), "gateway", "s3cret-Pw"],
        check=True,
        capture_output=True,
    )
    broker = Broker(workdir, extra=f"allow_anonymous false\npassword_file {passwords}").start()
    try:
        (tmp_path / "wrong").mkdir()
        (tmp_path / "right").mkdir()
        wrong = gateway_for(
            tmp_path / "wrong",
            {
                "port": broker.port,
                "username": "gateway",
                "password": "nope",
                "reconnect_min_s": 0.05,
                "reconnect_max_s": 0.2,
            },
        )
        async with running(wrong):
            plugin = connector(wrong)
            await eventually(lambda: plugin.ctx.counters["connection_errors"] >= 2)
            assert not plugin.connected.is_set()
            assert wrong.runners["mqtt"].status.restarts == 0

        right = gateway_for(
            tmp_path / "right",
            {"port": broker.port, "username": "gateway", "password": "s3cret-Pw"},
        )
        async with running(right):
            plugin = connector(right)
            async with asyncio.timeout(WAIT_S):
                await plugin.connected.wait()
            await right.journal.append(intrusion(3))
            await eventually(lambda: plugin.delivery is not None and plugin.delivery.delivered >= 2)
    finally:
        broker.stop()


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        gateway_for(tmp_path, {"port": 1883, "tls": {"cert_file": str(tmp_path / "nope.crt")}})
    text = str(err.value)
    assert "plugins[0].config.tls" in text and "key_file go together" in text
    with pytest.raises(ConfigError) as err:
        gateway_for(tmp_path, {"port": 1883, "window": 0, "topic_prefix": "a/#"})
    assert "plugins[0].config.window" in str(err.value)
    assert "plugins[0].config.topic_prefix" in str(err.value)
