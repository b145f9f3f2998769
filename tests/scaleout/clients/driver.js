#!/usr/bin/env node
/*
 * Many socket.io-client 0.9.16 connections in one Node process, driven by
 * JSON lines on stdin, reporting JSON lines on stdout (tests/scaleout).
 *
 * Commands (one JSON object a line):
 *   {"cmd": "connect", "name": N, "url": U, "transport": T}   query string in U
 *   {"cmd": "emit", "name": N, "event": E, "args": [...]}    with an ACK: "ack": true
 *   {"cmd": "disconnect", "name": N}
 *   {"cmd": "exit"}
 * Reports: {"name": N, "type": "connect", "sid": S, "transport": T},
 *   {"name": N, "type": "event", "event": E, "args": [...]},
 *   {"name": N, "type": "message", "data": D}, {"name": N, "type": "ack", "args": [...]},
 *   {"name": N, "type": "disconnect"}, {"name": N, "type": "error", "reason": R}.
 * Every event the server emits is reported, whatever its name. Reconnection
 * is off: a client the server drops stays disconnected.
 */
'use strict';

var readline = require('readline');
var io = require('socket.io-client');

var sockets = {};

function report (line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

function connect (cmd) {
  io.transports = [cmd.transport];
  var nsp = io.connect(cmd.url, {
    'force new connection': true,
    'reconnect': false,
    'try multiple transports': false,
    'connect timeout': 10000,
    'transports': [cmd.transport]
  });
  sockets[cmd.name] = nsp;
  nsp.on('connect', function () {
    report({ name: cmd.name, type: 'connect', sid: nsp.socket.sessionid,
             transport: nsp.socket.transport.name });
  });
  nsp.on('message', function (data) {
    report({ name: cmd.name, type: 'message', data: data });
  });
  nsp.on('disconnect', function () {
    report({ name: cmd.name, type: 'disconnect' });
  });
  nsp.on('error', function (reason) {
    report({ name: cmd.name, type: 'error', reason: String(reason) });
  });
  nsp.on('connect_failed', function (reason) {
    report({ name: cmd.name, type: 'error', reason: 'connect_failed ' + String(reason) });
  });
  // Every event, whatever its name: wrap the namespace's $emit.
  var $emit = nsp.$emit;
  nsp.$emit = function (name) {
    var args = [].slice.call(arguments, 1);
    if (['connect', 'disconnect', 'message', 'error', 'connect_failed', 'connecting',
         'reconnect', 'reconnecting', 'reconnect_failed'].indexOf(name) < 0) {
      report({ name: cmd.name, type: 'event', event: name, args: args });
    }
    return $emit.apply(this, arguments);
  };
}

function handle (cmd) {
  var nsp = sockets[cmd.name];
  if (cmd.cmd === 'connect') {
    connect(cmd);
  } else if (cmd.cmd === 'emit' && nsp) {
    var args = [cmd.event].concat(cmd.args || []);
    if (cmd.ack) {
      args.push(function () {
        report({ name: cmd.name, type: 'ack', args: [].slice.call(arguments) });
      });
    }
    nsp.emit.apply(nsp, args);
  } else if (cmd.cmd === 'disconnect' && nsp) {
    nsp.disconnect();
  } else if (cmd.cmd === 'exit') {
    process.exit(0);
  } else {
    report({ name: cmd.name, type: 'error', reason: 'bad command ' + JSON.stringify(cmd) });
  }
}

readline.createInterface({ input: process.stdin }).on('line', function (line) {
  if (line.trim()) {
    handle(JSON.parse(line));
  }
}).on('close', function () {
  process.exit(0);
});
