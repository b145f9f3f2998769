"""Emitting to tornadio2 clients from a process that serves none.

A worker (Celery, cron, another service) that shares the application's
Redis publishes room sends, broadcasts, ``close_room`` and disconnects by
session id, and every tornadio2 process applies them to its own clients:

.. code-block:: python

   from tornadio2.emitter import Emitter

   emitter = Emitter("redis://127.0.0.1:6379/0")
   emitter.to("lobby").emit("news", "hello")      # a room of the main endpoint
   emitter.to(session_id).emit("private", 1)      # one client, wherever it is
   emitter.to_all("/chat").send("to every /chat connection")
   emitter.disconnect(session_id)

:class:`AsyncEmitter` is the same for asyncio code (``await
emitter.to(room).emit(...)``). The messages are the broker's
(:mod:`tornadio2.broker`), so python-socketio's ``write_only`` managers can
do the same. Needs the ``redis`` extra.
"""

from typing import Any, Awaitable, Optional

from tornadio2.broker import (
    DEFAULT_CHANNEL, Message, close_room_message, disconnect_message, emit_message, encode,
    new_host_id, send_message,
)
from tornadio2.redisbroker import (async_redis_client, close_async_client, close_client,
                                  redis_client)

__all__ = ["Emitter", "AsyncEmitter", "Target"]


class Target:
    """A room (or a whole endpoint) of an emitter; ``emit`` and ``send`` publish to it."""

    __slots__ = ("_publish", "_endpoint", "_room")

    def __init__(self, publish: Any, endpoint: Optional[str], room: Optional[str]) -> None:
        self._publish = publish
        self._endpoint = endpoint or ""
        self._room = room

    def emit(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Publish the event ``name`` with positional or keyword arguments."""
        return self._publish(emit_message(self._endpoint, self._room, name, list(args), kwargs))

    def send(self, message: Any, force_json: bool = False) -> Any:
        """Publish a text message (or JSON for anything that is not a string)."""
        return self._publish(send_message(self._endpoint, self._room, message, force_json))


class Emitter:
    """Publishes to the tornadio2 processes on ``url`` and ``channel`` (blocking calls).

    ``client``: a ``redis.Redis`` to use instead of one made from ``url``.
    Each call returns how many processes received the message.
    """

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", channel: str = DEFAULT_CHANNEL,
                 client: Any = None) -> None:
        self.channel = channel
        self.host_id = new_host_id()
        self.client = client if client is not None else redis_client(url)

    def to(self, room: str, endpoint: Optional[str] = None) -> Target:
        """Everyone in ``room`` of ``endpoint``; a session id is a room of one."""
        return Target(self.publish, endpoint, room)

    def to_all(self, endpoint: Optional[str] = None) -> Target:
        """Every connection of ``endpoint`` in every process."""
        return Target(self.publish, endpoint, None)

    def close_room(self, room: str, endpoint: Optional[str] = None) -> int:
        """Take every connection out of ``room`` in every process."""
        return self.publish(close_room_message(room, endpoint))

    def disconnect(self, session_id: str, endpoint: Optional[str] = None) -> int:
        """Close session ``session_id`` (or only its ``endpoint``) wherever it is."""
        return self.publish(disconnect_message(session_id, endpoint))

    def publish(self, message: Message) -> int:
        """Publish a broker message as it is; how many processes received it."""
        return int(self.client.publish(self.channel, encode(message, self.host_id)))

    def close(self) -> None:
        """Close the connection to Redis (and to its sentinels)."""
        close_client(self.client)


class AsyncEmitter:
    """:class:`Emitter` for asyncio code: ``await emitter.to(room).emit(...)``."""

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", channel: str = DEFAULT_CHANNEL,
                 client: Any = None) -> None:
        self.channel = channel
        self.host_id = new_host_id()
        self.client = client if client is not None else async_redis_client(url)

    def to(self, room: str, endpoint: Optional[str] = None) -> Target:
        """Everyone in ``room`` of ``endpoint``; ``emit``/``send`` return awaitables."""
        return Target(self.publish, endpoint, room)

    def to_all(self, endpoint: Optional[str] = None) -> Target:
        """Every connection of ``endpoint`` in every process."""
        return Target(self.publish, endpoint, None)

    def close_room(self, room: str, endpoint: Optional[str] = None) -> Awaitable[int]:
        """Take every connection out of ``room`` in every process."""
        return self.publish(close_room_message(room, endpoint))

    def disconnect(self, session_id: str, endpoint: Optional[str] = None) -> Awaitable[int]:
        """Close session ``session_id`` (or only its ``endpoint``) wherever it is."""
        return self.publish(disconnect_message(session_id, endpoint))

    async def publish(self, message: Message) -> int:
        """Publish a broker message as it is; how many processes received it."""
        return int(await self.client.publish(self.channel, encode(message, self.host_id)))

    async def close(self) -> None:
        """Close the connection to Redis."""
        await close_async_client(self.client)
