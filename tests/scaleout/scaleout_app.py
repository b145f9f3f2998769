"""The small application the scale-out tests run in each tornadio2 process.

``python scaleout_app.py --port P --node N [--broker URL] [--degraded]``
prints one JSON line ``{"listening": P, "node": N}`` once it serves (after
``router.start()``: the broker is subscribed). Clients join rooms given in
the query (``?rooms=a,b``) and drive the server with events; ``/ctl/...``
lets a test act from the server side and read the stats.
"""

import argparse
import asyncio
import json
import logging
import sys

import tornado.web

from tornadio2 import SocketConnection, TornadioRouter, event


class ScaleConnection(SocketConnection):
    """Joins the rooms of its query; each event is one kind of room send."""

    def on_open(self, info):
        for room in filter(None, (info.get_argument("rooms") or "").split(",")):
            self.join(room)

    @event
    def whoami(self):
        return [self.session.sid, NODE]

    @event("enter")
    def enter_room(self, room):
        self.join(room)
        return True

    @event
    def room_emit(self, room, text):
        return self.to(room).emit("room", text, NODE)

    @event
    def broadcast(self, text):
        return self.to_others().emit("broadcast", text, NODE)

    @event
    def kick(self, sid):
        return ROUTER.disconnect(sid)

    @event
    def close_room(self, room):
        return ROUTER.close_room(room)


class ControlHandler(tornado.web.RequestHandler):
    """``/ctl/emit?room=R&text=T``, ``/ctl/stats``: the server side of a test."""

    def get(self, action):
        if action == "emit":
            room = self.get_argument("room", None)
            audience = ROUTER.to(room) if room else ROUTER.to_all()
            sent = audience.emit("server", self.get_argument("text"), NODE)
            self.write({"sent": sent})
        elif action == "stats":
            stats = ROUTER.stats.dump()
            broker = ROUTER.broker
            stats.update(received=getattr(broker, "received", 0),
                         published=getattr(broker, "published", 0),
                         peers=getattr(broker, "peers", 0),
                         listener_alive=all(not t.done() for t in getattr(broker, "_tasks", [])))
            self.write(stats)
        else:
            raise tornado.web.HTTPError(404)


NODE = ""
ROUTER = None


async def main() -> None:
    global NODE, ROUTER
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--node", required=True)
    parser.add_argument("--broker")
    parser.add_argument("--degraded", action="store_true")
    parser.add_argument("--window", type=float, default=5.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s " + args.node + " %(name)s %(message)s")
    NODE = args.node
    ROUTER = TornadioRouter(ScaleConnection, {
        "broker_url": args.broker, "node_id": args.node, "broker_start_degraded": args.degraded,
        "broker_outage_window": args.window,
        "client_path": None, "heartbeat_interval": 5, "xhr_polling_timeout": 5})
    await ROUTER.start()
    app = tornado.web.Application(ROUTER.apply_routes([(r"/ctl/(\w+)", ControlHandler)]))
    app.listen(args.port, "127.0.0.1")
    print(json.dumps({"listening": args.port, "node": args.node}), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
