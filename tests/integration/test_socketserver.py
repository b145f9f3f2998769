"""``SocketServer``: listens where the application settings say, starts the
Flash policy server, and serves over TLS (https handshake, wss websocket,
hixie-76 over TLS with a ``wss://`` location).

The TLS certificate is made at test time for 127.0.0.1, with the ``openssl``
command when there is one, else with the ``cryptography`` package.
"""

import asyncio
import datetime
import ipaddress
import os
import re
import shutil
import ssl
import subprocess

import pytest
import tornado.web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

from tornadio2 import SocketServer

try:
    from .hixie76_client import Hixie76Client
    from .wire import unused_port
except ImportError:
    from hixie76_client import Hixie76Client
    from wire import unused_port

POLICY_REQUEST = b"<policy-file-request/>\0"
HANDSHAKE = re.compile(r"\A[^:]+:17:25:websocket,flashsocket,xhr-polling,jsonp-polling,htmlfile\Z")


@pytest.fixture
def socket_server(io_loop, router):
    """``socket_server(ssl_options=None, **app_settings)`` -> a started ``SocketServer``."""
    servers = []

    def start(ssl_options=None, **settings):
        settings.setdefault("socket_io_port", unused_port())
        settings.setdefault("socket_io_address", "127.0.0.1")
        app = tornado.web.Application(router.urls, **settings)
        server = SocketServer(app, auto_start=False, ssl_options=ssl_options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
        io_loop.run_sync(server.close_all_connections)


@pytest.fixture
def http_fetch(io_loop):
    """``await http_fetch(url, **request_kwargs)`` with a private client, closed afterwards."""
    client = AsyncHTTPClient(force_instance=True)

    async def fetch(url, **kwargs):
        kwargs.setdefault("request_timeout", 5)
        return await client.fetch(HTTPRequest(url, **kwargs), raise_error=False)

    yield fetch
    client.close()


async def read_policy(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(POLICY_REQUEST)
        return await asyncio.wait_for(reader.read(), 3)
    finally:
        writer.close()
        await writer.wait_closed()


def _make_cert_with_openssl(cert, key):
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
         "-addext", "extendedKeyUsage=serverAuth"],
        check=True, capture_output=True, timeout=60)


def _make_cert_with_cryptography(cert, key):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(private.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))


@pytest.fixture
def tls(tmp_path):
    """``(server_context, client_context)`` for a throwaway certificate of 127.0.0.1."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    if shutil.which("openssl"):
        _make_cert_with_openssl(cert, key)
    else:
        try:
            import cryptography  # noqa: F401
        except ImportError:
            if os.environ.get("CI") == "true":
                pytest.fail("CI needs the openssl command or the cryptography package for TLS tests")
            pytest.skip("neither the openssl command nor the cryptography package is available")
        _make_cert_with_cryptography(cert, key)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(str(cert), str(key))
    client_context = ssl.create_default_context(cafile=str(cert))
    return server_context, client_context


@pytest.mark.gen_test
async def test_serves_handshake_on_configured_port_and_address(socket_server, http_fetch):
    server = socket_server()
    port = server.port
    response = await http_fetch("http://127.0.0.1:%d/socket.io/1/?t=1" % port)
    assert response.code == 200
    assert HANDSHAKE.match(response.body.decode()), response.body
    assert server.flash_policy_server is None


@pytest.mark.gen_test
async def test_starts_flash_policy_server_from_settings(socket_server, tmp_path):
    policy = b'<cross-domain-policy><allow-access-from domain="*" to-ports="*"/></cross-domain-policy>'
    (tmp_path / "policy.xml").write_bytes(policy)
    policy_port = unused_port()
    server = socket_server(flash_policy_port=policy_port,
                           flash_policy_file=str(tmp_path / "policy.xml"))
    assert server.flash_policy_server is not None
    assert await read_policy(policy_port) == policy + b"\0"


@pytest.mark.gen_test
async def test_flash_policy_port_without_file_starts_no_policy_server(socket_server):
    policy_port = unused_port()
    server = socket_server(flash_policy_port=policy_port)
    assert server.flash_policy_server is None
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", policy_port)


@pytest.mark.gen_test
async def test_stop_closes_both_listening_ports(socket_server, tmp_path):
    (tmp_path / "policy.xml").write_bytes(b"<cross-domain-policy/>")
    policy_port = unused_port()
    server = socket_server(flash_policy_port=policy_port,
                           flash_policy_file=str(tmp_path / "policy.xml"))
    assert await read_policy(policy_port) == b"<cross-domain-policy/>\0"
    server.stop()
    for port in (server.port, policy_port):
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)


@pytest.mark.gen_test
async def test_tls_handshake_over_https(socket_server, http_fetch, tls):
    server_context, client_context = tls
    server = socket_server(ssl_options=server_context)
    response = await http_fetch("https://127.0.0.1:%d/socket.io/1/?t=1" % server.port,
                                ssl_options=client_context)
    assert response.code == 200, response.error
    assert HANDSHAKE.match(response.body.decode()), response.body


@pytest.mark.gen_test
async def test_tls_websocket_over_wss_echoes(socket_server, http_fetch, tls):
    server_context, client_context = tls
    server = socket_server(ssl_options=server_context)
    response = await http_fetch("https://127.0.0.1:%d/socket.io/1/?t=1" % server.port,
                                ssl_options=client_context)
    sid = response.body.decode().split(":", 1)[0]
    conn = await websocket_connect(HTTPRequest(
        "wss://127.0.0.1:%d/socket.io/1/websocket/%s" % (server.port, sid),
        ssl_options=client_context, request_timeout=5))
    try:
        assert await asyncio.wait_for(conn.read_message(), 5) == "1::"
        conn.write_message("3:::secure é")
        assert await asyncio.wait_for(conn.read_message(), 5) == "3:::secure é"
    finally:
        conn.close()


@pytest.mark.gen_test
async def test_tls_hixie76_location_is_wss(socket_server, http_fetch, tls):
    server_context, client_context = tls
    server = socket_server(ssl_options=server_context)
    response = await http_fetch("https://127.0.0.1:%d/socket.io/1/?t=1" % server.port,
                                ssl_options=client_context)
    sid = response.body.decode().split(":", 1)[0]
    client = await Hixie76Client.connect(server.port, "/socket.io/1/flashsocket/%s" % sid,
                                         ssl=client_context)
    try:
        assert client.status == 101
        assert client.headers["sec-websocket-location"] == (
            "wss://127.0.0.1:%d/socket.io/1/flashsocket/%s" % (server.port, sid))
        assert client.answer == client.expected
        assert await client.read_message() == "1::"
    finally:
        await client.close()


def test_tune_gc_freezes_start_up_objects_and_raises_the_young_threshold(io_loop, router):
    import gc

    threshold = gc.get_threshold()
    try:
        app = tornado.web.Application(router.urls, socket_io_port=unused_port(),
                                      socket_io_address="127.0.0.1")
        server = SocketServer(app, auto_start=False, tune_gc=True)
        assert gc.get_threshold()[0] == 50000
        assert gc.get_freeze_count() > 0
        server.stop()
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
