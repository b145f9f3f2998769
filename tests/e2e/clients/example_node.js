#!/usr/bin/env node
/*
 * Drives one example (examples/<name>/) with socket.io-client 0.9.16 in Node.
 *
 *   node example_node.js SCENARIO '<json options>'
 *
 * Options: url (server root), transport ("websocket" or "xhr-polling", the
 * two that exist in Node), count (how many round trips, default 5),
 * timeoutMs (default 10000). SCENARIO is one of the keys of SCENARIOS.
 *
 * stdout gets exactly one JSON line: {"result": {...what happened...}} or
 * {"error": message, "seen": {...}}. This script only acts and records; the
 * test makes every judgement. Exit status: 0 result, 1 error, 2 timeout.
 */
'use strict';

var io = require('socket.io-client');

var scenario = process.argv[2];
var opts = JSON.parse(process.argv[3] || '{}');
var count = opts.count || 5;
var seen = {};  // what the scenario saw so far, reported on failure too

function finish (line, code) {
  process.stdout.write(JSON.stringify(line) + '\n');
  process.exit(code);
}

function connect (url) {
  // Forcing a transport needs the global list too (wire-notes#clients).
  io.transports = [opts.transport];
  var socket = io.connect(url || opts.url, {
    transports: [opts.transport], 'force new connection': true, reconnect: false
  });
  socket.on('error', function (err) { finish({ error: 'socket error: ' + err, seen: seen }, 1); });
  socket.on('connect_failed', function () { finish({ error: 'connect_failed', seen: seen }, 1); });
  return socket;
}

function done (result) {
  finish({ result: result }, 0);
}

var SCENARIOS = {
  // examples/rpcping and examples/stats: `count` sequential ping -> pong round trips.
  rpcping: function () {
    var socket = connect();
    seen = { sent: [], received: [], rtts: [] };
    function ping () {
      var t = Date.now() + seen.sent.length / 1000;  // distinct even within one millisecond
      seen.sent.push(t);
      socket.emit('ping', t);
    }
    socket.on('connect', function () {
      seen.transport = socket.socket.transport.name;
      ping();
    });
    socket.on('pong', function (t) {
      seen.received.push(t);
      seen.rtts.push(Date.now() - Math.floor(t));
      if (seen.received.length < count) {
        ping();
      } else {
        socket.disconnect();
        done(seen);
      }
    });
  },

  // examples/ackping: `count` client pings answered by ACKs, then `count` server
  // pings (emit_ack) that this client acknowledges, each reported back as server_rtt.
  ackping: function () {
    var socket = connect();
    seen = { sent: [], acked: [], serverPings: [], serverRtts: [] };
    function clientPing () {
      var t = Date.now() + seen.sent.length / 1000;
      seen.sent.push(t);
      socket.emit('ping', t, function () {
        seen.acked.push(Array.prototype.slice.call(arguments));
        if (seen.acked.length < count) {
          clientPing();
        } else {
          socket.emit('ping_me');
        }
      });
    }
    socket.on('connect', function () {
      seen.transport = socket.socket.transport.name;
      clientPing();
    });
    socket.on('ping', function (token, ack) {
      seen.serverPings.push({ token: token, ackIsFunction: typeof ack === 'function' });
      ack(token);
    });
    socket.on('server_rtt', function (report) {
      seen.serverRtts.push(report);
      if (seen.serverRtts.length < count) {
        socket.emit('ping_me');
      } else {
        socket.disconnect();
        done(seen);
      }
    });
  },

  // examples/multiplexed: /chat and /ping as two namespaces of one forced connection.
  multiplexed: function () {
    var main = connect();
    var chat = main.socket.of('/chat');
    var ping = main.socket.of('/ping');
    seen = { chat: [], pongs: [], sent: [] };
    var said = false;
    function check () {
      if (seen.chat.indexOf(seen.nick + ': hello over /chat') >= 0 && seen.pongs.length >= count) {
        seen.sameSocket = chat.socket === ping.socket && chat.socket === main.socket;
        seen.sessionIds = [chat.socket.sessionid, ping.socket.sessionid];
        seen.transport = chat.socket.transport.name;
        main.socket.disconnect();
        done(seen);
      }
    }
    chat.on('message', function (line) {
      seen.chat.push(line);
      var joined = /^\* (\S+) joined$/.exec(line);
      if (joined && !said) {
        said = true;
        seen.nick = joined[1];
        chat.send('hello over /chat');
      }
      check();
    });
    chat.on('connect', function () {
      // Pings go out only once both endpoints exist on the server.
      for (var i = 0; i < count; i++) {
        seen.sent.push(i);
        ping.emit('ping', i);
      }
    });
    ping.on('pong', function (i) {
      seen.pongs.push(i);
      check();
    });
  },

  // examples/gen: three requests to each handler at once (0.3, 0.2, 0.1 s of work).
  gen: function () {
    var socket = connect();
    var kinds = ['ordered', 'generator', 'unordered'];
    seen = { results: {}, t0: null };
    socket.on('connect', function () {
      seen.transport = socket.socket.transport.name;
      seen.t0 = Date.now();
      kinds.forEach(function (kind) {
        seen.results[kind] = [];
        socket.emit(kind, 1, 0.3);
        socket.emit(kind, 2, 0.2);
        socket.emit(kind, 3, 0.1);
      });
    });
    socket.on('result', function (kind, number, square) {
      seen.results[kind].push({ number: number, square: square, ms: Date.now() - seen.t0 });
      var complete = kinds.every(function (k) { return seen.results[k].length === 3; });
      if (complete) {
        socket.disconnect();
        done(seen);
      }
    });
  },

  // examples/ssl_transports (and any echo server): `count` messages echoed back.
  echo: function () {
    var socket = connect();
    seen = { sent: [], echoed: [] };
    socket.on('connect', function () {
      seen.transport = socket.socket.transport.name;
      seen.secure = Boolean(socket.socket.options.secure);
      for (var i = 0; i < count; i++) {
        var text = 'echo ' + i + ' ✓';
        seen.sent.push(text);
        socket.send(text);
      }
    });
    socket.on('message', function (text) {
      seen.echoed.push(text);
      if (seen.echoed.length === count) {
        socket.disconnect();
        done(seen);
      }
    });
  }
};

if (!SCENARIOS[scenario] || !opts.url || !opts.transport) {
  process.stderr.write('usage: node example_node.js ' + Object.keys(SCENARIOS).join('|') +
                       ' \'{"url": ..., "transport": ..., "count": N}\'\n');
  process.exit(3);
}
setTimeout(function () {
  finish({ error: 'timed out', seen: seen }, 2);
}, opts.timeoutMs || 10000);
SCENARIOS[scenario]();
