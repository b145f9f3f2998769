#!/usr/bin/env node
/*
 * The benchmark application on the native socket.io 0.9.19 server.
 *
 *   node native_app.js [--port 0] [--heartbeat 60]
 *
 * Same behaviour as tornadio2_app.py: echo messages, `ping` -> `pong`,
 * `broadcast` -> `bcast` to every connected socket; `join` (answered
 * `joined`), `room_emit` and `every_room` -> `rmsg` with
 * `io.sockets.in(room).emit`; websocket and xhr-polling. Log level 0 and an unlimited `destroy buffer size` (the
 * default drops busy websocket clients after a few MB, wire-notes#running-native).
 * Listens on 127.0.0.1, prints {"listening": PORT}, exits on SIGTERM/SIGINT.
 */
'use strict';

// socket.io 0.9 loads `policyfile`, which still expects process.EventEmitter.
process.EventEmitter = require('events').EventEmitter;

const http = require('http');

// Modern node throws when a finished response is written to; node 0.x, which
// socket.io 0.9 was written for, ignored it.
for (const name of ['write', 'writeHead']) {
  const original = http.ServerResponse.prototype[name];
  http.ServerResponse.prototype[name] = function () {
    if (this.finished || this.writableEnded) return this;
    return original.apply(this, arguments);
  };
}

const sio = require('socket.io');

function option (name, fallback) {
  const index = process.argv.indexOf('--' + name);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
}

const port = option('port', 0);
const heartbeat = option('heartbeat', 60);

const server = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});

const io = sio.listen(server, { 'log level': 0 });
io.set('transports', ['websocket', 'xhr-polling']);
io.set('destroy buffer size', Infinity);
if (heartbeat > 0) {
  io.set('heartbeat interval', heartbeat);
  io.set('heartbeat timeout', heartbeat + 5);
} else {
  io.set('heartbeats', false);
}

io.sockets.on('connection', (socket) => {
  socket.on('message', (message) => socket.send(message));
  socket.on('ping', (...args) => socket.emit('pong', ...args));
  socket.on('broadcast', (...args) => io.sockets.emit('bcast', ...args));
  socket.on('join', (room) => {
    socket.join(room);
    socket.emit('joined', room);
  });
  socket.on('room_emit', (room, round) => io.sockets.in(room).emit('rmsg', round));
  socket.on('every_room', (round, count) => {
    for (let i = 0; i < count; i++) io.sockets.in('r' + i).emit('rmsg', round);
  });
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}

server.listen(port, '127.0.0.1', 1024, () => {
  process.stdout.write(JSON.stringify({ listening: server.address().port }) + '\n');
});
