"""``PreflightHandler.preflight()`` and ``verify_origin()`` overrides, as TornadIO2 apps wrote them."""

import pytest

from tornadio2 import SocketConnection, TornadioRouter
from tornadio2 import router as router_module
from tornadio2.polling import TornadioXHRPollingHandler

try:
    from tests.integration.wire import read_response_text
except ImportError:  # pragma: no cover
    from wire import read_response_text  # type: ignore[no-redef]

GOOD = "http://good.example"
EVIL = "http://evil.example"


class OwnOriginPolicy(TornadioXHRPollingHandler):
    def verify_origin(self):
        return self.request.headers["Origin"] == GOOD


class TicketRequired(TornadioXHRPollingHandler):
    def preflight(self):
        return self.get_argument("ticket", None) == "t1" and super().preflight()


@pytest.fixture
def connection():
    return SocketConnection


@pytest.fixture
def handler_class(request):
    return getattr(request, "param", OwnOriginPolicy)


@pytest.fixture
def router(io_loop, connection, handler_class, monkeypatch):
    monkeypatch.setitem(router_module.PROTOCOLS, "xhr-polling", handler_class)
    router = TornadioRouter(connection)
    yield router
    router.stop()


async def poll(wire, sid, query="", origin=None):
    headers = {"Origin": origin} if origin else {}
    return await wire.fetch("1/xhr-polling/%s?t=1%s" % (sid, query), headers=headers)


@pytest.mark.gen_test
async def test_verify_origin_override_decides(wire):
    sid = await wire.new_sid()
    refused = await poll(wire, sid, origin=EVIL)
    assert refused.code == 403
    accepted = await poll(wire, sid, origin=GOOD)
    assert (accepted.code, read_response_text(accepted)) == (200, "1::")
    assert accepted.headers["Access-Control-Allow-Origin"] == GOOD


@pytest.mark.gen_test
async def test_verify_origin_is_not_asked_without_an_origin(wire):
    sid = await wire.new_sid()
    response = await poll(wire, sid)  # the override would raise KeyError on a missing header
    assert (response.code, read_response_text(response)) == (200, "1::")


@pytest.mark.parametrize("handler_class", [TicketRequired], indirect=True)
@pytest.mark.gen_test
async def test_preflight_override_refuses_requests(wire, handler_class):
    sid = await wire.new_sid()
    assert (await poll(wire, sid)).code == 403
    options = await wire.fetch("1/xhr-polling/%s?t=1" % sid, method="OPTIONS",
                               headers={"Origin": GOOD})
    assert options.code == 403
    response = await poll(wire, sid, "&ticket=t1")
    assert (response.code, read_response_text(response)) == (200, "1::")
