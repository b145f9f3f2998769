"""What every example shares: its command line, its page, the npm client files, its start-up line.

Each example is one script, ``examples/<name>/<name>.py``, next to its
``index.html``. They all take ``--port``/``--address`` (or the environment
variables ``<NAME>_PORT``/``<NAME>_ADDRESS``), bind 127.0.0.1 unless told
otherwise, serve the stock Socket.IO 0.9 browser client from the project's
``node_modules`` (``npm install --ignore-scripts`` at the root) and print
exactly one line, ``listening on http://127.0.0.1:PORT/``, once they accept
connections. Scripts import this module after putting ``examples/`` on
``sys.path``.
"""

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable, List, Optional

import tornado.web

__all__ = ["NODE_MODULES", "parse_args", "page_route", "client_routes", "announce", "run",
           "serve_forever"]

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
SOCKET_IO_DIST = NODE_MODULES / "socket.io-client" / "dist"
CHART_JS_DIST = NODE_MODULES / "chart.js" / "dist"


def parse_args(name: str, default_port: int, doc: Optional[str],
               extra: Optional[Callable[[argparse.ArgumentParser], None]] = None,
               ) -> argparse.Namespace:
    """``--port``/``--address`` with ``<NAME>_PORT``/``<NAME>_ADDRESS`` defaults, plus ``extra``."""
    prefix = name.upper()
    parser = argparse.ArgumentParser(description=(doc or name).splitlines()[0])
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get(prefix + "_PORT", default_port)),
                        help="port to listen on (env %s_PORT, default %d)" % (prefix, default_port))
    parser.add_argument("--address", default=os.environ.get(prefix + "_ADDRESS", "127.0.0.1"),
                        help="address to bind (env %s_ADDRESS, default 127.0.0.1)" % prefix)
    if extra is not None:
        extra(parser)
    return parser.parse_args()


class _PageHandler(tornado.web.RequestHandler):
    """Renders one template (the example's ``index.html``) with fixed values."""

    def initialize(self, template: str, **values: Any) -> None:  # type: ignore[override]
        self.template = template
        self.values = values

    def get(self) -> None:
        self.render(self.template, **self.values)


def page_route(script: str, template: str = "index.html", **values: Any) -> Any:
    """``/`` rendering ``template`` from the directory of ``script`` (pass ``__file__``)."""
    path = str(Path(script).resolve().parent / template)
    return tornado.web.url(r"/", _PageHandler, dict(values, template=path))


def client_routes(chart: bool = False, flash: bool = False) -> List[Any]:
    """Routes for ``/socket.io.js`` (and ``/chart.umd.js``, the Flash socket SWFs) from npm.

    The SWFs go where socket.io-client 0.9 looks for them by default, under
    ``/socket.io/static/flashsocket/``; list these routes before the router's.
    """
    routes = [(r"/(socket\.io\.js)", tornado.web.StaticFileHandler, {"path": str(SOCKET_IO_DIST)})]
    if chart:
        routes.append((r"/(chart\.umd\.js)", tornado.web.StaticFileHandler,
                       {"path": str(CHART_JS_DIST)}))
    if flash:
        routes.append((r"/socket\.io/static/flashsocket/(WebSocketMain(?:Insecure)?\.swf)",
                       tornado.web.StaticFileHandler, {"path": str(SOCKET_IO_DIST)}))
    return routes


def announce(port: int, address: str = "127.0.0.1", scheme: str = "http") -> None:
    """Print the one start-up line tests and people wait for."""
    print("listening on %s://%s:%d/" % (scheme, address, port), flush=True)


def run(main: Callable[[], Awaitable[None]]) -> None:
    """Set up logging, check ``node_modules``, run ``main()`` until Ctrl+C."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not (SOCKET_IO_DIST / "socket.io.js").is_file():
        logging.warning("%s is missing: run `npm install --ignore-scripts` in %s",
                        SOCKET_IO_DIST / "socket.io.js", ROOT)
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)


async def serve_forever() -> None:
    """Wait until the process is interrupted."""
    await asyncio.Event().wait()
