"""Socket.IO over TLS: wss:// and https:// polling, started with ``SocketServer``.

Without ``--certfile``/``--keyfile`` a self-signed certificate for localhost
and 127.0.0.1 is made at start-up, with the ``openssl`` command (or the
``cryptography`` package), in a temporary directory that is deleted once the
certificate is loaded. Browsers will warn about it; accept the warning once.
The page echoes messages over the transport you pick.
Run from the project root, then open https://127.0.0.1:8443/::

    .venv/bin/python examples/ssl_transports/ssl_transports.py [--port 8443]
"""

import datetime
import ipaddress
import logging
import shutil
import ssl
import subprocess
import sys
import tempfile
from pathlib import Path

import tornado.web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for _common
import _common  # noqa: E402

from tornadio2 import SocketConnection, SocketServer, TornadioRouter  # noqa: E402

TRANSPORTS = ["websocket", "xhr-polling", "jsonp-polling", "htmlfile", "flashsocket"]


class EchoConnection(SocketConnection):
    """Sends every message back."""

    def on_message(self, message):
        self.send(message)


def _self_signed_with_openssl(cert, key):
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "7", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _self_signed_with_cryptography(cert, key):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(private_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .sign(private_key, hashes.SHA256()))
    key.write_bytes(private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def tls_context(certfile=None, keyfile=None):
    """A server ``SSLContext`` for the given files, or for a throwaway self-signed certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    if certfile:
        context.load_cert_chain(certfile, keyfile)
        return context
    with tempfile.TemporaryDirectory(prefix="tornadio2-tls-") as directory:
        cert, key = Path(directory, "cert.pem"), Path(directory, "key.pem")
        if shutil.which("openssl"):
            _self_signed_with_openssl(cert, key)
        else:
            try:
                _self_signed_with_cryptography(cert, key)
            except ImportError:
                sys.exit("need the openssl command or the cryptography package "
                         "to make a certificate; or pass --certfile and --keyfile")
        context.load_cert_chain(str(cert), str(key))
    logging.info("using a fresh self-signed certificate for localhost and 127.0.0.1")
    return context


def make_app(port, address):
    router = TornadioRouter(EchoConnection, {"enabled_protocols": TRANSPORTS})
    return tornado.web.Application(
        router.apply_routes([_common.page_route(__file__, transports=TRANSPORTS)]
                            + _common.client_routes(flash=True)),
        # Where SocketServer listens.
        socket_io_port=port, socket_io_address=address)


def add_options(parser):
    parser.add_argument("--certfile", help="PEM certificate (chain) to use instead of a fresh one")
    parser.add_argument("--keyfile", help="PEM private key of --certfile")


async def main():
    args = _common.parse_args("ssl_transports", 8443, __doc__, add_options)
    context = tls_context(args.certfile, args.keyfile)
    # auto_start=False: asyncio.run already runs the loop SocketServer would start.
    SocketServer(make_app(args.port, args.address), auto_start=False, ssl_options=context)
    _common.announce(args.port, args.address, scheme="https")
    await _common.serve_forever()


if __name__ == "__main__":
    _common.run(main)
