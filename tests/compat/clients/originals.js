#!/usr/bin/env node
/*
 * Drives one of TornadIO2's examples (tests/compat/originals/) the way its
 * page did, with socket.io-client 0.9.16 in Node.
 *
 *   node originals.js SCENARIO '<json options>'
 *
 * Options: url (server root), transport ("websocket" or "xhr-polling"),
 * count (round trips, default 3), timeoutMs (default 10000), insecure (TLS
 * certificate not checked, for a self-signed one).
 *
 * stdout gets one JSON line: {"result": {...}} or {"error": message, "seen": {...}}.
 * The script only acts and records; the test judges. Exit status: 0 result,
 * 1 error, 2 timeout.
 */
'use strict';

var scenario = process.argv[2];
var opts = JSON.parse(process.argv[3] || '{}');
if (opts.insecure) {
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
}
var io = require('socket.io-client');
var count = opts.count || 3;
var seen = {};

function finish (line, code) {
  process.stdout.write(JSON.stringify(line) + '\n');
  process.exit(code);
}

function connect () {
  // Forcing one transport takes the global list too (wire-notes#clients).
  io.transports = [opts.transport];
  var socket = io.connect(opts.url, {
    transports: [opts.transport], 'force new connection': true, reconnect: false
  });
  socket.on('error', function (err) { finish({ error: 'socket error: ' + err, seen: seen }, 1); });
  socket.on('connect_failed', function () { finish({ error: 'connect_failed', seen: seen }, 1); });
  socket.on('connect', function () { seen.transport = socket.socket.transport.name; });
  return socket;
}

function done (socket) {
  socket.socket.disconnect();
  finish({ result: seen }, 0);
}

var SCENARIOS = {
  // ackping: emit('ping', stamp, fn); the server's return value comes as fn's arguments.
  ackping: function () {
    var socket = connect();
    seen.acked = [];
    function ping () {
      socket.emit('ping', 'stamp ' + seen.acked.length, function () {
        seen.acked.push(Array.prototype.slice.call(arguments));
        if (seen.acked.length < count) { ping(); } else { done(socket); }
      });
    }
    socket.on('connect', ping);
  },

  // rpcping: emit('ping', stamp, text); the server emits 'pong' with the stamp.
  rpcping: function () {
    var socket = connect();
    seen.pongs = [];
    function ping () { socket.emit('ping', 'stamp ' + seen.pongs.length, 'Hey Server'); }
    socket.on('connect', ping);
    socket.on('pong', function (client, server) {
      seen.pongs.push([client, server]);
      if (seen.pongs.length < count) { ping(); } else { done(socket); }
    });
  },

  // stats: pings as in ackping, then emit('stats', fn) for the server's dump().
  stats: function () {
    var socket = connect();
    seen.acked = 0;
    function ping () {
      socket.emit('ping', 'stamp', function () {
        seen.acked += 1;
        if (seen.acked < count) {
          ping();
        } else {
          socket.emit('stats', function (dump) { seen.dump = dump; done(socket); });
        }
      });
    }
    socket.on('connect', ping);
  },

  // gen: two queries at once; sync_engine answers them in order, one after the other.
  gen: function () {
    var socket = connect();
    seen.responses = [];
    socket.on('connect', function () {
      seen.t0 = Date.now();
      socket.emit('query', 1);
      socket.emit('query', 2);
    });
    socket.on('response', function (text) {
      seen.responses.push({ text: text, ms: Date.now() - seen.t0 });
      if (seen.responses.length === 2) { done(socket); }
    });
  },

  // multiplexed: /chat (say something, see it broadcast) and /ping (JSON echoed with 'server').
  multiplexed: function () {
    var main = connect();
    var chat = main.socket.of('/chat');
    var ping = main.socket.of('/ping');
    seen.chat = [];
    seen.pings = [];
    function check () {
      if (seen.chat.length >= 2 && seen.pings.length >= count) {
        seen.shared = chat.socket === ping.socket && ping.socket === main.socket;
        done(main);
      }
    }
    chat.on('message', function (line) {
      seen.chat.push(line);
      if (seen.chat.length === 1) { chat.send('hello over /chat'); }
      check();
    });
    ping.on('connect', function () {
      for (var i = 0; i < count; i++) { ping.json.send({ client: i }); }
    });
    ping.on('message', function (data) { seen.pings.push(data); check(); });
  },

  // transports, crosssite, ssl_transports: the welcome, then `count` messages echoed.
  chat: function () {
    var socket = connect();
    seen.messages = [];
    seen.sent = [];
    socket.on('message', function (text) {
      seen.messages.push(text);
      if (seen.messages.length === 1) {
        seen.secure = Boolean(socket.socket.options.secure);
        for (var i = 0; i < count; i++) {
          seen.sent.push('line ' + i + ' /' + i);
          socket.send('line ' + i + ' /' + i);
        }
      }
      if (seen.messages.length === count + 1) { done(socket); }
    });
  }
};

if (!SCENARIOS[scenario] || !opts.url || !opts.transport) {
  process.stderr.write('usage: node originals.js ' + Object.keys(SCENARIOS).join('|') +
                       ' \'{"url": ..., "transport": ...}\'\n');
  process.exit(3);
}
setTimeout(function () { finish({ error: 'timed out', seen: seen }, 2); }, opts.timeoutMs || 10000);
SCENARIOS[scenario]();
