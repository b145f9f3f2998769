"""Pick the transport: websocket, flashsocket, xhr-polling, jsonp-polling or htmlfile.

The page forces the chosen transport (``io.transports = [name]`` plus the
``transports`` option: the 0.9 client merges the option into its global list
rather than replacing it), shows the one in use and echoes messages over it.
htmlfile needs Internet Explorer; flashsocket needs the Flash player and a
Flash policy server (``--flash-policy-port 10843``); other browsers report
them as unavailable.
Run from the project root, then open http://127.0.0.1:8007/::

    .venv/bin/python examples/transports/transports.py [--port 8007]
"""

import sys
from pathlib import Path

import tornado.web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for _common
import _common  # noqa: E402

from tornadio2 import SocketConnection, TornadioRouter  # noqa: E402
from tornadio2.flashserver import FlashPolicyServer  # noqa: E402

TRANSPORTS = ["websocket", "flashsocket", "xhr-polling", "jsonp-polling", "htmlfile"]


class EchoConnection(SocketConnection):
    """Sends every message back, whatever carried it."""

    def on_message(self, message):
        self.send(message)


def make_app():
    router = TornadioRouter(EchoConnection, {"enabled_protocols": TRANSPORTS})
    return tornado.web.Application(router.apply_routes(
        [_common.page_route(__file__, transports=TRANSPORTS)]
        + _common.client_routes(flash=True)))


def add_options(parser):
    parser.add_argument("--flash-policy-port", type=int, default=0,
                        help="also serve the Flash socket policy on this port "
                             "(the client asks 843, then 10843); default: off")


async def main():
    args = _common.parse_args("transports", 8007, __doc__, add_options)
    make_app().listen(args.port, args.address)
    if args.flash_policy_port:
        FlashPolicyServer(args.flash_policy_port, address=args.address).start_listening()
    _common.announce(args.port, args.address)
    await _common.serve_forever()


if __name__ == "__main__":
    _common.run(main)
