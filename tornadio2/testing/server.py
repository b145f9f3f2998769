"""Serve an application on a free port of 127.0.0.1 and connect clients to it.

:func:`serve` runs a :class:`~tornadio2.router.TornadioRouter` (or any
Tornado ``Application``) in the running event loop for the length of an
``async with`` block: what a test needs to talk to the application over real
sockets. :func:`connect_clients` opens several :class:`SocketIOClient` at
once. Nothing here needs pytest, so any asyncio test runner can use it.
"""

import asyncio
import logging
import socket
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, List, Optional, Union

import tornado.web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from tornadio2.router import TornadioRouter
from tornadio2.testing.client import SocketIOClient

__all__ = ["LiveServer", "serve", "connect_clients"]

logger = logging.getLogger("tornadio2.testing")

#: The only address test servers listen on.
LOOPBACK = "127.0.0.1"


class LiveServer:
    """An application listening on 127.0.0.1, as :func:`serve` yields it.

    ``port`` and ``url`` say where; ``router`` is the router served (when
    known), so a test can read its ``stats`` or sessions.
    """

    def __init__(self, application: tornado.web.Application, port: int,
                 router: Optional[TornadioRouter], namespace: str) -> None:
        self.application = application
        self.port = port
        self.router = router
        self.namespace = namespace
        self.url = "http://%s:%d" % (LOOPBACK, port)

    def client(self, **kwargs: Any) -> SocketIOClient:
        """A client of this server, not connected yet (``async with`` connects it)."""
        kwargs.setdefault("namespace", self.namespace)
        return SocketIOClient(self.url, **kwargs)

    async def connect(self, **kwargs: Any) -> SocketIOClient:
        """A connected client of this server (close it with ``disconnect()``)."""
        return await self.client(**kwargs).connect()

    def connect_many(self, count: int, **kwargs: Any) -> "Any":
        """``async with server.connect_many(3) as clients:``, see :func:`connect_clients`."""
        kwargs.setdefault("namespace", self.namespace)
        return connect_clients(self.url, count, **kwargs)


@asynccontextmanager
async def serve(app: Union[TornadioRouter, tornado.web.Application], *,
                router: Optional[TornadioRouter] = None,
                **server_kwargs: Any) -> AsyncIterator[LiveServer]:
    """Run ``app`` on a free port of 127.0.0.1 in the running loop.

    ``app`` is a router (served alone) or an ``Application``; give the
    router of an ``Application`` as ``router`` so that its timers and
    sessions are stopped at the end, as they are for a router served alone.
    ``server_kwargs`` go to Tornado's ``HTTPServer``.
    """
    if isinstance(app, TornadioRouter):
        router = app
        application = tornado.web.Application(app.urls)
    else:
        application = app
    sockets = bind_sockets(0, LOOPBACK, family=socket.AF_INET)
    port = sockets[0].getsockname()[1]
    server = HTTPServer(application, **server_kwargs)
    server.add_sockets(sockets)
    logger.debug("serving on %s:%d", LOOPBACK, port)
    try:
        yield LiveServer(application, port, router,
                         router.namespace if router is not None else "socket.io")
    finally:
        server.stop()
        if router is not None:
            router.stop()
        await server.close_all_connections()


@asynccontextmanager
async def connect_clients(url: str, count: int,
                          **kwargs: Any) -> AsyncIterator[List[SocketIOClient]]:
    """Connect ``count`` clients to ``url`` at once; disconnect them at the end.

    ``kwargs`` go to each :class:`SocketIOClient`. If one fails to
    connect, the others are closed and the error is raised.
    """
    clients = [SocketIOClient(url, **kwargs) for _ in range(count)]
    results = await asyncio.gather(*(client.connect() for client in clients),
                                   return_exceptions=True)
    try:
        for result in results:
            if isinstance(result, BaseException):
                raise result
        yield clients
    finally:
        await asyncio.gather(*(client.disconnect() for client in clients),
                             return_exceptions=True)
