"""Fixtures for the compatibility tests: applications in TornadIO2's idioms.

Each test module defines ``connection`` (its ``SocketConnection`` class) and
may define ``router_settings``; the ``app`` fixture serves the router on
127.0.0.1 through pytest-tornado's ``http_server``. ``node`` and
``node_modules`` are the end-to-end tests' fixtures, for the tests that run
the stock 0.9 client.
"""

from typing import Any, Dict

import pytest
import tornado.web

from tornadio2 import TornadioRouter
from tornadio2.router import StatsHandler

try:
    from tests.integration.wire import WireClient
except ImportError:  # pragma: no cover - tests/integration put on sys.path
    from wire import WireClient  # type: ignore[no-redef]

# The Node fixtures of the end-to-end tests (skip without node, fail on CI).
from tests.e2e.conftest import node, node_modules  # noqa: E402,F401


@pytest.fixture
def router_settings() -> Dict[str, Any]:
    return {}


@pytest.fixture
def router(io_loop: Any, connection: Any, router_settings: Dict[str, Any]) -> Any:
    router = TornadioRouter(connection, router_settings)
    yield router
    router.stop()


@pytest.fixture
def app(router: Any) -> tornado.web.Application:
    return tornado.web.Application(router.apply_routes([
        (r"/stats", StatsHandler, {"router": router}),
    ]))


@pytest.fixture
def base_url(http_port: int) -> str:
    return "http://127.0.0.1:%d" % http_port


@pytest.fixture
def wire(base_url: str, http_client: Any) -> Any:
    client = WireClient(base_url, http_client)
    yield client
    client.close()
