#!/usr/bin/env node
/*
 * The application of tests/client/ on the native socket.io 0.9.19 server.
 *
 *   node native_app.js HEARTBEAT_INTERVAL HEARTBEAT_TIMEOUT CLOSE_TIMEOUT POLLING_DURATION
 *
 * (all in seconds, fractions allowed). It behaves like make_router() in
 * tests/client/conftest.py, so the Python test client can be checked against
 * the reference server with the same tests. Listens on 127.0.0.1 and a free
 * port and prints one JSON line {"listening": PORT} once ready.
 */
'use strict';

// socket.io 0.9 loads `policyfile`, which still expects process.EventEmitter.
process.EventEmitter = require('events').EventEmitter;

var http = require('http');

// Node 0.x ignored writes to a finished response; modern node throws.
(function lenientResponses () {
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

var timings = process.argv.slice(2).map(Number);
var server = http.createServer(function (req, res) {
  res.writeHead(404);
  res.end();
});

var io = sio.listen(server, { 'log level': 0 });
io.set('transports', ['websocket', 'xhr-polling']);
io.set('heartbeat interval', timings[0]);
io.set('heartbeat timeout', timings[1]);
io.set('close timeout', timings[2]);
io.set('polling duration', timings[3]);

// socket id -> endpoints the client left, for the 'closed_endpoints' event
var closedEndpoints = {};

io.sockets.on('connection', function (socket) {
  socket.on('message', function (message) {
    if (typeof message === 'string') {
      socket.send(message);
    } else {
      socket.json.send(message);
    }
  });
  socket.on('add', function (a, b, ack) {
    ack(a + b);
  });
  socket.on('ping', function () {
    socket.emit.apply(socket, ['pong'].concat([].slice.call(arguments)));
  });
  socket.on('ask', function (question) {
    // The callback declares a parameter: only then is the id sent with '+'.
    socket.emit('question', question, function (answer) {
      socket.emit('answered', [].slice.call(arguments));
    });
  });
  socket.on('send_me', function () {
    socket.send('ack me', function () {
      socket.emit('sent_acked');
    });
  });
  socket.on('closed_endpoints', function (ack) {
    ack(closedEndpoints[socket.id] || []);
  });
  socket.on('kick', function () {
    socket.disconnect();
  });
  socket.on('disconnect', function () {
    process.stdout.write(JSON.stringify({ closed: socket.id }) + '\n');
  });
});

io.of('/chat').on('connection', function (socket) {
  socket.on('message', function (message) {
    socket.send('chat:' + message);
  });
  socket.on('leave', function () {
    socket.disconnect();
  });
  socket.on('disconnect', function () {
    (closedEndpoints[socket.id] = closedEndpoints[socket.id] || []).push('/chat');
  });
});

io.of('/private').authorization(function (handshake, callback) {
  callback(null, false);
}).on('connection', function () {});

server.listen(0, '127.0.0.1', function () {
  process.stdout.write(JSON.stringify({ listening: server.address().port }) + '\n');
});
