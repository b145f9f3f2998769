#!/usr/bin/env node
/*
 * The e2e test application written for the native socket.io 0.9.19 server.
 *
 * It behaves like tests/e2e/e2e_app.py (the tornadio2 app) so that
 * scenarios.js can be checked against the reference server first:
 *
 *   node native_app.js [PORT]      (PORT 0 or missing: any free port)
 *
 * Listens on 127.0.0.1 only and prints one JSON line
 * {"listening": PORT} once ready, then one JSON line per server-side fact
 * ({"server": "open" | "message" | "ack" | "close", ...}).
 * Timings mirror the short settings of the Python tests: heartbeat interval
 * 2 s, heartbeat and close timeout 4 s, polling duration 2 s.
 */
'use strict';

// socket.io 0.9 loads `policyfile`, which still expects process.EventEmitter.
process.EventEmitter = require('events').EventEmitter;

var http = require('http');

// Node 0.x silently ignored writes to a finished response; modern node throws
// ERR_HTTP_HEADERS_SENT, which socket.io 0.9 occasionally triggers.
(function restoreLenientResponses () {
  var proto = http.ServerResponse.prototype;
  ['write', 'writeHead'].forEach(function (name) {
    var original = proto[name];
    proto[name] = function () {
      if (this.finished || this.writableEnded) {
        return this;
      }
      return original.apply(this, arguments);
    };
  });
})();

var sio = require('socket.io');

// Native bug 1 (wire-notes#native-bugs): POST bodies are decoded chunk by
// chunk, so a multi-byte character split between two reads is corrupted.
// Decoding the stream with a StringDecoder keeps split characters intact
// without changing anything else on the wire; without this, the 1 MB
// non-ASCII round trip over xhr-polling fails on the reference server.
(function decodePostBodiesWhole () {
  var HTTPTransport = require('socket.io/lib/transports/http');
  var original = HTTPTransport.prototype.handleRequest;
  HTTPTransport.prototype.handleRequest = function (req) {
    if (req.method == 'POST') {
      req.setEncoding('utf8');
    }
    return original.call(this, req);
  };
})();

function report (fact) {
  process.stdout.write(JSON.stringify(fact) + '\n');
}

var port = Number(process.argv[2] || 0);
var server = http.createServer(function (req, res) {
  res.writeHead(404);
  res.end();
});

var io = sio.listen(server, { 'log level': 0 });
io.set('transports', ['websocket', 'xhr-polling']);
io.set('heartbeat interval', 2);
io.set('heartbeat timeout', 4);
io.set('close timeout', 4);
io.set('polling duration', 2);
io.set('destroy buffer size', Infinity);

// tag (from the connect URL query) -> true once that socket disconnected
var closedTags = {};
var closeWaiters = {};

function markClosed (tag) {
  if (!tag) {
    return;
  }
  closedTags[tag] = true;
  (closeWaiters[tag] || []).forEach(function (fn) { fn(true); });
  delete closeWaiters[tag];
}

function waitClosed (tag, fn) {
  if (closedTags[tag]) {
    return fn(true);
  }
  var done = false;
  function once (value) {
    if (!done) {
      done = true;
      clearTimeout(timer);
      fn(value);
    }
  }
  var timer = setTimeout(function () { once(false); }, 5000);
  (closeWaiters[tag] = closeWaiters[tag] || []).push(once);
}

/*
 * The room events, the same on every endpoint as RoomEvents in e2e_app.py:
 * every send to a room is followed by a 'sentinel' to the whole endpoint.
 */
function roomEvents (socket, namespace) {
  socket.on('join', function (room, ack) {
    socket.join(room);
    ack(true);
  });
  socket.on('leave', function (room, ack) {
    socket.leave(room);
    ack(true);
  });
  socket.on('shout', function (room, payload) {
    namespace.in(room).emit('room', room, payload);
    namespace.emit('sentinel', payload);
  });
  socket.on('tell_others', function (room, payload) {
    var others = room === null ? socket.broadcast : socket.broadcast.to(room);
    others.emit('others', payload);
    namespace.emit('sentinel', payload);
  });
  socket.on('volatile_to', function (sid) {
    var target = io.sockets.socket(sid);
    target.send('first');
    target.volatile.send('vol');
    target.send('later');
  });
}

io.sockets.on('connection', function (socket) {
  var tag = socket.handshake.query.tag || null;
  report({ server: 'open', endpoint: '', tag: tag });
  roomEvents(socket, io.sockets);

  socket.on('message', function (message) {
    report({ server: 'message', endpoint: '', length: message.length });
    if (typeof message === 'string') {
      socket.send(message);
    } else {
      socket.json.send(message);
    }
  });

  socket.on('ping', function () {
    socket.emit.apply(socket, ['pong'].concat([].slice.call(arguments)));
  });

  socket.on('add', function (a, b, ack) {
    ack(a + b);
  });

  socket.on('ask', function (question) {
    // The callback must declare a parameter: only then does socket.io write
    // the '+' that makes the client answer with data.
    socket.emit('question', question, function (answer) {
      var args = [].slice.call(arguments);
      report({ server: 'ack', args: args });
      socket.emit('acked', args);
    });
  });

  socket.on('send_me', function () {
    socket.send('ack me', function () {
      var args = [].slice.call(arguments);
      report({ server: 'send_ack', args: args });
      socket.emit('sent_acked', args);
    });
  });

  socket.on('burst', function (count) {
    for (var i = 0; i < count; i++) {
      socket.emit('item', i);
    }
  });

  socket.on('kick', function () {
    socket.disconnect();
  });

  socket.on('was_closed', function (otherTag, ack) {
    waitClosed(otherTag, ack);
  });

  socket.on('disconnect', function () {
    report({ server: 'close', endpoint: '', tag: tag });
    markClosed(tag);
  });
});

['/chat', '/news'].forEach(function (endpoint) {
  var prefix = endpoint.slice(1) + ':';
  io.of(endpoint).on('connection', function (socket) {
    report({ server: 'open', endpoint: endpoint, tag: socket.handshake.query.tag || null });
    roomEvents(socket, io.of(endpoint));
    socket.on('message', function (message) {
      report({ server: 'message', endpoint: endpoint, length: message.length });
      socket.send(prefix + message);
    });
    socket.on('disconnect', function () {
      report({ server: 'close', endpoint: endpoint });
    });
  });
});

server.listen(port, '127.0.0.1', function () {
  report({ listening: server.address().port });
});
