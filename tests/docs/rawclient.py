"""A small Socket.IO 0.9 wire client for the documentation tests.

It knows the handshake, the websocket transport and xhr-polling, nothing
more; packets are literal strings written by the tests. It shares no code
with ``tornadio2.proto`` on purpose.
"""

import asyncio
from typing import Dict, List, Optional

from tornado.httpclient import AsyncHTTPClient, HTTPRequest, HTTPResponse
from tornado.websocket import WebSocketClientConnection, websocket_connect

#: Seconds a test waits for one answer before it fails.
ANSWER_TIMEOUT = 5.0


class Socket:
    """A session's websocket: send and expect packets, one per frame."""

    def __init__(self, connection: WebSocketClientConnection) -> None:
        self.connection = connection

    def send(self, packet: str) -> None:
        self.connection.write_message(packet)

    async def recv(self, timeout: float = ANSWER_TIMEOUT) -> Optional[str]:
        """The next frame, or ``None`` once the server closed the socket."""
        message = await asyncio.wait_for(self.connection.read_message(), timeout)
        assert message is None or isinstance(message, str), message
        return message

    async def expect(self, *packets: str) -> None:
        """Assert that the next frames are exactly ``packets``, in order."""
        received = [await self.recv() for _ in packets]
        assert received == list(packets)

    def close(self) -> None:
        self.connection.close()


class Client:
    """HTTP and websocket requests to one server on 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.base = "http://127.0.0.1:%d" % port
        self.http = AsyncHTTPClient(force_instance=True)
        self._sockets: List[Socket] = []

    async def get(self, path: str, headers: Optional[Dict[str, str]] = None,
                  method: str = "GET", body: Optional[str] = None) -> HTTPResponse:
        request = HTTPRequest(self.base + path, method=method, body=body,
                              headers=headers, request_timeout=ANSWER_TIMEOUT * 2)
        return await self.http.fetch(request, raise_error=False)

    async def handshake(self, query: str = "", headers: Optional[Dict[str, str]] = None) -> str:
        """Make a session; return its id (the first field of the answer)."""
        response = await self.get("/socket.io/1/" + ("?" + query if query else ""), headers)
        assert response.code == 200, (response.code, response.body)
        return response.body.decode().split(":")[0]

    async def websocket(self, sid: str, headers: Optional[Dict[str, str]] = None) -> Socket:
        url = "ws://127.0.0.1:%d/socket.io/1/websocket/%s" % (self.port, sid)
        connection = await websocket_connect(HTTPRequest(url, headers=headers))
        socket = Socket(connection)
        self._sockets.append(socket)
        return socket

    async def connect(self, query: str = "", headers: Optional[Dict[str, str]] = None) -> Socket:
        """Handshake, open the websocket, and read the connect packet."""
        socket = await self.websocket(await self.handshake(query, headers), headers)
        await socket.expect("1::")
        return socket

    async def poll(self, sid: str) -> str:
        response = await self.get("/socket.io/1/xhr-polling/" + sid)
        assert response.code == 200, (response.code, response.body)
        return response.body.decode("utf-8")

    async def post(self, sid: str, payload: str) -> None:
        response = await self.get("/socket.io/1/xhr-polling/" + sid, method="POST", body=payload)
        assert (response.code, response.body) == (200, b"1")

    def close(self) -> None:
        for socket in self._sockets:
            socket.close()
        self.http.close()
