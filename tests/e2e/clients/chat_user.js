// One user of examples/chat, driven by socket.io-client 0.9.16 in Node.
//
// Usage: node chat_user.js '<json options>'
//   url        server root, e.g. "http://127.0.0.1:8001"
//   nick       sent as ?nick= in the handshake query
//   room       sent as ?room= (omitted: the server's default room)
//   transport  "websocket" or "xhr-polling" (the only two that exist in Node)
//   say        line to send (omitted: none)
//   sayAfter   received line to wait for before sending `say` (null: send on connect)
//   leaveAfter received line after which to disconnect (null: stay)
//   lifetimeMs hard limit on how long this process lives (default 30000)
//
// Commands, one JSON object per line on stdin: {"say": text} sends a line,
// {"join": room} emits `join` (switch rooms) and reports {"event": "joined", "room": ACK}.
//
// Prints one JSON object per line on stdout: {"event": "connect", "transport": ...},
// {"event": "message", "data": ...}, {"event": "disconnect", "reason": ...} and errors.
// The test reads these and makes every decision; this script only acts and reports.
'use strict';

const opts = JSON.parse(process.argv[2]);
const io = require('socket.io-client');

// Forcing a transport needs the global list too: the client deep-merges the
// `transports` option into io.transports index by index (wire-notes#clients).
io.transports = [opts.transport];

function report(event, fields) {
  process.stdout.write(JSON.stringify(Object.assign({event: event}, fields)) + '\n');
}

const socket = io.connect(opts.url, {
  query: 'nick=' + encodeURIComponent(opts.nick) +
    (opts.room ? '&room=' + encodeURIComponent(opts.room) : ''),
  transports: [opts.transport],
  'force new connection': true,
  reconnect: false,
});

socket.on('connect', function () {
  report('connect', {transport: socket.socket.transport.name});
  if (opts.say && !opts.sayAfter) socket.send(opts.say);
});

socket.on('message', function (data) {
  report('message', {data: data});
  if (data === opts.sayAfter) socket.send(opts.say);
  if (data === opts.leaveAfter) socket.disconnect();
});

require('readline').createInterface({input: process.stdin}).on('line', function (line) {
  const command = JSON.parse(line);
  if ('say' in command) socket.send(command.say);
  if ('join' in command) {
    socket.emit('join', command.join, function (room) { report('joined', {room: room}); });
  }
});

socket.on('disconnect', function (reason) { report('disconnect', {reason: String(reason)}); });
socket.on('error', function (err) { report('error', {error: String(err)}); });
socket.on('connect_failed', function () { report('connect_failed', {}); });

setTimeout(function () {
  report('lifetime_exceeded', {});
  process.exit(3);
}, opts.lifetimeMs || 30000).unref();
