#!/usr/bin/env node
/*
 * End-to-end scenarios driven by the real socket.io-client 0.9.16 in node.
 *
 *   node scenarios.js URL TRANSPORT SCENARIO [--timeout=SECONDS] [--trace]
 *
 * URL is the server root (http://127.0.0.1:PORT), TRANSPORT is websocket or
 * xhr-polling, SCENARIO one of the names in SCENARIOS below. The server must
 * run the e2e test app (tests/e2e/e2e_app.py or native_app.js).
 *
 * stdout gets JSON lines: {"check": name, "ok": bool, ...} for every
 * assertion, then exactly one {"result": "pass" | "fail" | "timeout", ...}
 * line. A failed or timed out run includes the stage it was in, and any
 * such run (or one with --trace) a trace of the raw data the client sent
 * and received. Exit status: 0 pass, 1 fail, 2 timeout, 3 usage error.
 */
'use strict';

var util = require('util');
var io = require('socket.io-client');

var EXIT = { pass: 0, fail: 1, timeout: 2, usage: 3 };
var TRACE_LIMIT = 400;
var TRACE_TEXT = 240;
var IDLE_MS = 4500;

var PAYLOADS = [
  'Привет, мир',
  '😀',
  '\ufffd',
  '\ufffd3\ufffdabc',
  'ё😀\ufffd𝄞 end'
];

// ---------------------------------------------------------------- output

var started = Date.now();
var trace = [];
var stage = 'starting';
var finished = false;
var argv = parseArgs(process.argv.slice(2));

function emit (line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

function excerpt (text) {
  text = String(text);
  if (text.length <= TRACE_TEXT) {
    return text;
  }
  return text.slice(0, TRACE_TEXT - 60) + '...[' + text.length + ' chars]...' +
    text.slice(-40);
}

function record (direction, what) {
  if (trace.length < TRACE_LIMIT) {
    trace.push({ ms: Date.now() - started, dir: direction, data: excerpt(what) });
  }
}

function finish (outcome, error) {
  if (finished) {
    return;
  }
  finished = true;
  var line = {
    result: outcome,
    scenario: argv.scenario,
    transport: argv.transport,
    ms: Date.now() - started
  };
  if (outcome !== 'pass') {
    line.stage = stage;
    line.error = error && error.message ? error.message : String(error);
  }
  if (outcome !== 'pass' || argv.trace) {
    line.trace = trace;
  }
  emit(line);
  process.exit(EXIT[outcome]);
}

function check (name, ok, detail) {
  var line = { check: name, ok: !!ok };
  if (detail !== undefined) {
    line.detail = detail;
  }
  emit(line);
  if (!ok) {
    throw new Error('check failed: ' + name + (detail !== undefined ?
      ' ' + JSON.stringify(detail) : ''));
  }
}

function same (a, b) {
  return util.isDeepStrictEqual(a, b);
}

/** UTF-16 code units of a short string, for readable evidence. */
function units (text) {
  var out = [];
  for (var i = 0; i < text.length && i < 64; i++) {
    out.push(text.charCodeAt(i).toString(16));
  }
  return out.join(' ');
}

function parseArgs (args) {
  var out = { timeout: 20, trace: false };
  var positional = [];
  args.forEach(function (arg) {
    var m = /^--timeout=(\d+(\.\d+)?)$/.exec(arg);
    if (arg === '--trace') {
      out.trace = true;
    } else if (m) {
      out.timeout = Number(m[1]);
    } else {
      positional.push(arg);
    }
  });
  out.url = (positional[0] || '').replace(/\/+$/, '');
  out.transport = positional[1];
  out.scenario = positional[2];
  return out;
}

// ---------------------------------------------------------- wire tracing

(function instrument () {
  var Transport = io.Transport;
  var onData = Transport.prototype.onData;
  Transport.prototype.onData = function (data) {
    record('in', data);
    return onData.apply(this, arguments);
  };

  var wsSend = Transport.websocket.prototype.send;
  Transport.websocket.prototype.send = function (data) {
    record('out', data);
    return wsSend.apply(this, arguments);
  };

  var post = Transport.XHR.prototype.post;
  Transport.XHR.prototype.post = function (data) {
    record('out', data);
    return post.apply(this, arguments);
  };

  // Log every HTTP status of polling requests (a non-200 closes the transport).
  var request = Transport.XHR.prototype.request;
  Transport.XHR.prototype.request = function (method) {
    var req = request.apply(this, arguments);
    var send = req.send;
    req.send = function () {
      var handler = req.onreadystatechange;
      req.onreadystatechange = function () {
        if (req.readyState == 4) {
          record('http', (method || 'GET') + ' -> ' + req.status);
        }
        return handler && handler.apply(this, arguments);
      };
      return send.apply(req, arguments);
    };
    return req;
  };
})();

// ---------------------------------------------------------------- helpers

/** Collects the argument lists of one event of a namespace. */
function collect (nsp, name) {
  var items = [];
  var waiters = [];
  nsp.on(name, function () {
    items.push([].slice.call(arguments));
    waiters = waiters.filter(function (w) {
      if (items.length >= w.count) {
        w.resolve(items);
        return false;
      }
      return true;
    });
  });
  return {
    items: items,
    until: function (count) {
      return new Promise(function (resolve) {
        if (items.length >= count) {
          resolve(items);
        } else {
          waiters.push({ count: count, resolve: resolve });
        }
      });
    }
  };
}

function once (nsp, name) {
  return new Promise(function (resolve) {
    nsp.once(name, function () {
      resolve([].slice.call(arguments));
    });
  });
}

/**
 * Opens a new connection to `path` forcing the transport under test (or
 * `transport`, for scenarios that mix transports in this one process).
 *
 * The 0.9 client merges the `transports` option into the global default
 * list index by index, so the global list must be replaced as well (by a
 * new array: sockets made earlier keep the one they were given).
 */
function open (path, transport) {
  transport = transport || argv.transport;
  io.transports = [transport];
  var nsp = io.connect(argv.url + (path || ''), {
    'force new connection': true,
    'reconnect': false,
    'try multiple transports': false,
    'connect timeout': 10000,
    'transports': [transport]
  });
  nsp.on('error', function (reason) {
    record('event', 'error ' + JSON.stringify(reason));
  });
  nsp.on('connect_failed', function (reason) {
    record('event', 'connect_failed ' + JSON.stringify(reason));
  });
  nsp.on('disconnect', function (reason) {
    record('event', 'disconnect ' + JSON.stringify(reason));
  });
  return nsp;
}

/** Opens a connection and waits for its 'connect' on the forced transport. */
async function connected (path, transport) {
  transport = transport || argv.transport;
  var nsp = open(path, transport);
  stage = 'waiting for connect';
  var failure = new Promise(function (resolve, reject) {
    ['error', 'connect_failed'].forEach(function (name) {
      nsp.once(name, function (reason) {
        if (!nsp.socket.connected) {
          reject(new Error(name + ' before connect: ' + JSON.stringify(reason)));
        }
      });
    });
  });
  await Promise.race([once(nsp, 'connect'), failure]);
  var name = nsp.socket.transport && nsp.socket.transport.name;
  check('transport is ' + transport, name === transport, { actual: name });
  return nsp;
}

function uniqueTag () {
  return 't' + process.pid + '_' + Date.now() + '_' + Math.floor(Math.random() * 1e6);
}

/** Asks the server (over a fresh connection) whether the tagged socket closed. */
async function serverSawClose (tag) {
  var observer = await connected('/?tag=' + uniqueTag());
  stage = 'waiting for the server to confirm on_close of ' + tag;
  var answer = await new Promise(function (resolve) {
    observer.emit('was_closed', tag, function (value) {
      resolve(value);
    });
  });
  check('server called on_close for the disconnected socket', answer === true,
        { answer: answer });
}

// ------------------------------------------------------------ room helpers

/** The events the room scenarios log, in arrival order, per client. */
var ROOM_EVENTS = ['room', 'others', 'sentinel', 'message'];

/** The transport of the pair that is not `transport`, to mix them. */
function otherTransport (transport) {
  return transport === 'websocket' ? 'xhr-polling' : 'websocket';
}

/** Emits `name` with `args` and resolves with the ACK arguments. */
function ask (nsp, name) {
  var args = [].slice.call(arguments, 2);
  return new Promise(function (resolve) {
    nsp.emit.apply(nsp, [name].concat(args, [function () {
      resolve([].slice.call(arguments));
    }]));
  });
}

/**
 * A client of the room scenarios: its own socket on `transport`, optionally
 * its /chat endpoint on the same socket, and ONE log of what both received,
 * in order, as [endpoint label, event, args...].
 */
async function roomClient (name, transport, withChat) {
  var client = { name: name, main: null, chat: null, log: [], seen: 0, waiters: [] };
  function listen (nsp, label) {
    ROOM_EVENTS.forEach(function (event) {
      nsp.on(event, function () {
        client.log.push([label, event].concat([].slice.call(arguments)));
        client.waiters = client.waiters.filter(function (w) { return !w(); });
      });
    });
  }
  client.main = await connected('/?tag=' + name + uniqueTag(), transport);
  listen(client.main, 'main');
  if (withChat) {
    client.chat = client.main.socket.of('/chat');
    stage = 'waiting for connect of ' + name + '/chat';
    await once(client.chat, 'connect');
    listen(client.chat, 'chat');
  }
  return client;
}

/**
 * Resolves with what `client` got since the previous step, up to and
 * including the sentinel `payload`: the sentinel follows every room send, so
 * what is not in this list was not sent to this client.
 */
function untilSentinel (client, payload) {
  return new Promise(function (resolve) {
    function found () {
      for (var i = client.seen; i < client.log.length; i++) {
        if (client.log[i][1] === 'sentinel' && client.log[i][2] === payload) {
          var got = client.log.slice(client.seen, i + 1);
          client.seen = i + 1;
          resolve(got);
          return true;
        }
      }
      return false;
    }
    if (!found()) {
      client.waiters.push(found);
    }
  });
}

/** Awaits the sentinel `payload` on every client and checks each one's exact log. */
async function roomStep (clients, payload, what, expected) {
  stage = 'waiting for sentinel ' + payload + ' (' + what + ')';
  var got = await Promise.all(clients.map(function (c) { return untilSentinel(c, payload); }));
  clients.forEach(function (c, i) {
    check(what + ': ' + c.name + ' got exactly its share', same(got[i], expected[c.name]),
          { got: got[i], expected: expected[c.name] });
  });
}

// -------------------------------------------------------------- scenarios

var SCENARIOS = {
  connect: async function () {
    var nsp = await connected();
    check('connect fired with a session id', !!nsp.socket.sessionid,
          { sessionid: nsp.socket.sessionid });
  },

  send_echo: async function () {
    var nsp = await connected();
    var messages = collect(nsp, 'message');
    nsp.send('hi');
    stage = 'waiting for the echo of send("hi")';
    await messages.until(1);
    check('echo of send("hi")', same(messages.items[0], ['hi']), { got: messages.items });
  },

  json_send: async function () {
    var nsp = await connected();
    var messages = collect(nsp, 'message');
    nsp.json.send({ a: [1, 'x'] });
    stage = 'waiting for the echo of json.send';
    await messages.until(1);
    check('echo of json.send({a:[1,"x"]})', same(messages.items[0], [{ a: [1, 'x'] }]),
          { got: messages.items });
  },

  ping_pong: async function () {
    var nsp = await connected();
    var pongs = collect(nsp, 'pong');
    nsp.emit('ping', 1, 'two', { three: [3] });
    stage = 'waiting for pong';
    await pongs.until(1);
    check('pong carries the ping arguments', same(pongs.items[0], [1, 'two', { three: [3] }]),
          { got: pongs.items });
  },

  ping_object: async function () {
    // One object argument: tornadio2 hands it to the handler as keyword
    // arguments, which must still travel back as one object.
    var nsp = await connected();
    var pongs = collect(nsp, 'pong');
    nsp.emit('ping', { a: 1, b: ['x', null] });
    stage = 'waiting for pong';
    await pongs.until(1);
    check('pong carries the one object argument', same(pongs.items[0], [{ a: 1, b: ['x', null] }]),
          { got: pongs.items });
  },

  empty_message: async function () {
    var nsp = await connected();
    var messages = collect(nsp, 'message');
    nsp.send('');
    nsp.send('after');
    stage = 'waiting for the echo of send("") and send("after")';
    await messages.until(2);
    check('empty message echoed, then the next one', same(messages.items, [[''], ['after']]),
          { got: messages.items });
  },

  send_ack: async function () {
    // send() with a callback writes a plain id ('3:1::hi'): the server
    // acknowledges by itself with '6:::1'.
    var nsp = await connected();
    var messages = collect(nsp, 'message');
    stage = 'waiting for the automatic ack of send("hi", fn)';
    var args = await new Promise(function (resolve) {
      nsp.send('hi', function () {
        resolve([].slice.call(arguments));
      });
    });
    check('send callback fired without arguments', same(args, []), { got: args });
    stage = 'waiting for the echo of send("hi", fn)';
    await messages.until(1);
    check('message still delivered and echoed', same(messages.items, [['hi']]),
          { got: messages.items });
  },

  server_send_ack: async function () {
    // The server's send() with a callback: a plain id, so the client library
    // acknowledges by itself and the server callback runs with no data.
    var nsp = await connected();
    var messages = collect(nsp, 'message');
    var confirmed = collect(nsp, 'sent_acked');
    nsp.emit('send_me');
    stage = 'waiting for the message sent with a callback';
    await messages.until(1);
    check('message arrived without an ack function (plain id)',
          same(messages.items[0], ['ack me']),
          { got: messages.items[0].map(function (a) {
            return typeof a === 'function' ? '<ack fn>' : a;
          }) });
    stage = 'waiting for the server to confirm the automatic ack ("sent_acked")';
    await confirmed.until(1);
    check('server callback ran with no ack data', same(confirmed.items[0], [[]]),
          { got: confirmed.items[0] });
  },

  client_ack: async function () {
    var nsp = await connected();
    stage = 'waiting for the ack of emit("add", 2, 3, fn)';
    var args = await new Promise(function (resolve) {
      nsp.emit('add', 2, 3, function () {
        resolve([].slice.call(arguments));
      });
    });
    check('ack callback gets the handler result', same(args, [5]), { got: args });
  },

  server_ack: async function () {
    var nsp = await connected();
    var confirmed = collect(nsp, 'acked');
    var questions = collect(nsp, 'question');
    nsp.emit('ask', 'sure?');
    stage = 'waiting for the server event "question"';
    await questions.until(1);
    var q = questions.items[0];
    var ack = q[q.length - 1];
    check('server event asks for an ack with data (id with "+")', typeof ack === 'function',
          { args: q.map(function (a) { return typeof a === 'function' ? '<ack fn>' : a; }) });
    check('question carries its argument', same(q.slice(0, -1), ['sure?']), { got: q.slice(0, -1) });
    ack('yes', { n: 42 });
    stage = 'waiting for the server to confirm the ack ("acked")';
    await confirmed.until(1);
    check('server callback got the client ack args', same(confirmed.items[0], [['yes', { n: 42 }]]),
          { got: confirmed.items[0] });
  },

  multiplex: async function () {
    var main = await connected();
    // A forced new connection is not cached: register it so that the
    // endpoint connects below reuse it instead of opening new sockets.
    io.sockets[io.util.uniqueUri(io.util.parseUri(argv.url))] = main.socket;
    var chat = io.connect(argv.url + '/chat');
    var news = io.connect(argv.url + '/news');
    var mainMessages = collect(main, 'message');
    var chatMessages = collect(chat, 'message');
    var newsMessages = collect(news, 'message');
    stage = 'waiting for connect of /chat and /news';
    await Promise.all([once(chat, 'connect'), once(news, 'connect')]);
    check('both endpoints share the one underlying socket',
          chat.socket === main.socket && news.socket === main.socket, {});
    chat.send('hi');
    news.send('hi');
    stage = 'waiting for the prefixed echoes on /chat and /news';
    await Promise.all([chatMessages.until(1), newsMessages.until(1)]);
    check('/chat echoes with its prefix', same(chatMessages.items, [['chat:hi']]),
          { got: chatMessages.items });
    check('/news echoes with its prefix', same(newsMessages.items, [['news:hi']]),
          { got: newsMessages.items });
    check('main endpoint got none of them', mainMessages.items.length === 0,
          { got: mainMessages.items });
    check('still one session', main.socket.transport.sessid === main.socket.sessionid,
          { sessionid: main.socket.sessionid });
  },

  endpoint_disconnect: async function () {
    var main = await connected();
    io.sockets[io.util.uniqueUri(io.util.parseUri(argv.url))] = main.socket;
    var chat = io.connect(argv.url + '/chat');
    stage = 'waiting for connect of /chat';
    await once(chat, 'connect');
    var left = once(chat, 'disconnect');
    chat.disconnect();
    await left;
    var pongs = collect(main, 'pong');
    main.emit('ping', 'still there');
    stage = 'waiting for pong on the main endpoint after leaving /chat';
    await pongs.until(1);
    check('main endpoint keeps working after 0::/chat', same(pongs.items[0], ['still there']),
          { got: pongs.items });
    check('the connection stayed up', main.socket.connected === true, {});
  },

  burst: async function () {
    var nsp = await connected();
    var items = collect(nsp, 'item');
    nsp.emit('burst', 100);
    stage = 'waiting for 100 "item" events';
    await items.until(100);
    var values = items.items.map(function (args) { return args[0]; });
    var expected = [];
    for (var i = 0; i < 100; i++) {
      expected.push(i);
    }
    check('100 items complete and in order', same(values, expected), { got: values });
    check('each item has exactly one argument',
          items.items.every(function (args) { return args.length === 1; }), {});
  },

  unicode: async function () {
    var nsp = await connected();
    var messages = collect(nsp, 'message');
    var pongs = collect(nsp, 'pong');
    // All at once, so that polling transports frame several packets per
    // request and response (UTF-16 lengths, U+FFFD inside the data).
    PAYLOADS.forEach(function (text) {
      nsp.send(text);
      nsp.emit('ping', text);
    });
    stage = 'waiting for the unicode echoes';
    await Promise.all([messages.until(PAYLOADS.length), pongs.until(PAYLOADS.length)]);
    PAYLOADS.forEach(function (text, i) {
      var echoed = messages.items[i][0];
      check('send round trip of [' + units(text) + ']', echoed === text,
            { got: typeof echoed === 'string' ? units(echoed) : echoed });
      var ponged = pongs.items[i];
      check('emit round trip of [' + units(text) + ']', same(ponged, [text]),
            { got: ponged.map(function (a) { return typeof a === 'string' ? units(a) : a; }) });
    });
  },

  big_message: async function () {
    var nsp = await connected();
    var messages = collect(nsp, 'message');
    var unit = 'The quick brown fox 0123456789 Привет, мир 😀 \ufffd ';
    var text = '';
    while (text.length < 1000000) {
      text += unit;
    }
    text += 'END';
    nsp.send(text);
    stage = 'waiting for the 1 MB echo';
    await messages.until(1);
    var echoed = messages.items[0][0];
    var firstDiff = -1;
    if (typeof echoed === 'string') {
      for (var i = 0; i < Math.max(text.length, echoed.length); i++) {
        if (text.charCodeAt(i) !== echoed.charCodeAt(i)) {
          firstDiff = i;
          break;
        }
      }
    }
    check('1 MB message round trips intact', echoed === text, {
      sent_length: text.length,
      got_length: typeof echoed === 'string' ? echoed.length : typeof echoed,
      first_difference: firstDiff,
      sent_there: firstDiff >= 0 ? units(text.slice(firstDiff, firstDiff + 8)) : undefined,
      got_there: firstDiff >= 0 ? units(echoed.slice(firstDiff, firstDiff + 8)) : undefined
    });
  },

  idle: async function () {
    // Longer than the announced heartbeat and close timeouts (4 s in the
    // test apps): the connection must survive on heartbeats (websocket) or
    // long-poll cycles (xhr-polling), then still work.
    var nsp = await connected();
    var dropped = [];
    nsp.on('disconnect', function (reason) { dropped.push(reason); });
    stage = 'idling ' + IDLE_MS + ' ms';
    await new Promise(function (resolve) { setTimeout(resolve, IDLE_MS); });
    check('no disconnect while idle', dropped.length === 0 && nsp.socket.connected,
          { disconnects: dropped });
    var pongs = collect(nsp, 'pong');
    nsp.emit('ping', 'awake');
    stage = 'waiting for pong after idling';
    await pongs.until(1);
    check('pong after idling', same(pongs.items[0], ['awake']), { got: pongs.items });
    check('same session as before', nsp.socket.transport.sessid === nsp.socket.sessionid, {});
  },

  server_close: async function () {
    var tag = uniqueTag();
    var nsp = await connected('/?tag=' + tag);
    var packets = [];
    var onPacket = nsp.socket.onPacket;
    nsp.socket.onPacket = function (packet) {
      packets.push(packet.type + ':' + packet.endpoint);
      return onPacket.apply(this, arguments);
    };
    var disconnected = once(nsp, 'disconnect');
    nsp.emit('kick');
    stage = 'waiting for "disconnect" after the server closed';
    var args = await disconnected;
    check('client saw the disconnect', true, { reason: args[0] });
    check('the server sent a disconnect packet (0::)', packets.indexOf('disconnect:') >= 0,
          { packets: packets });
    await serverSawClose(tag);
  },

  rooms: async function () {
    // Three sockets in this one process, transports mixed: A and C on the
    // transport under test, B on the other. Rooms: red = {A, B},
    // blue = {B, C} on the main endpoint, and red = {C} on /chat.
    var kinds = { A: argv.transport, B: otherTransport(argv.transport), C: argv.transport };
    var a = await roomClient('A', kinds.A, true);
    var b = await roomClient('B', kinds.B, true);
    var c = await roomClient('C', kinds.C, true);
    var all = [a, b, c];
    stage = 'joining rooms';
    var joined = await Promise.all([ask(a.main, 'join', 'red'), ask(b.main, 'join', 'red'),
      ask(b.main, 'join', 'blue'), ask(c.main, 'join', 'blue'), ask(c.chat, 'join', 'red')]);
    check('every join acknowledged', same(joined, [[true], [true], [true], [true], [true]]),
          { got: joined });
    var M = 'main';
    var CHAT = 'chat';

    a.main.emit('shout', 'red', 'r1');
    await roomStep(all, 'r1', 'A to red (main)', {
      A: [[M, 'room', 'red', 'r1'], [M, 'sentinel', 'r1']],
      B: [[M, 'room', 'red', 'r1'], [M, 'sentinel', 'r1']],
      C: [[M, 'sentinel', 'r1']] // in red on /chat only: another room
    });
    c.main.emit('shout', 'blue', 'b1');
    await roomStep(all, 'b1', 'C to blue', {
      A: [[M, 'sentinel', 'b1']],
      B: [[M, 'room', 'blue', 'b1'], [M, 'sentinel', 'b1']],
      C: [[M, 'room', 'blue', 'b1'], [M, 'sentinel', 'b1']]
    });
    a.main.emit('tell_others', null, 'o1');
    await roomStep(all, 'o1', 'A broadcast to the endpoint', {
      A: [[M, 'sentinel', 'o1']],
      B: [[M, 'others', 'o1'], [M, 'sentinel', 'o1']],
      C: [[M, 'others', 'o1'], [M, 'sentinel', 'o1']]
    });
    b.main.emit('tell_others', 'blue', 'o2');
    await roomStep(all, 'o2', 'B broadcast to blue', {
      A: [[M, 'sentinel', 'o2']],
      B: [[M, 'sentinel', 'o2']],
      C: [[M, 'others', 'o2'], [M, 'sentinel', 'o2']]
    });
    c.chat.emit('shout', 'red', 'c1');
    await roomStep(all, 'c1', 'C to red on /chat', {
      A: [[CHAT, 'sentinel', 'c1']], // in red on the main endpoint only
      B: [[CHAT, 'sentinel', 'c1']],
      C: [[CHAT, 'room', 'red', 'c1'], [CHAT, 'sentinel', 'c1']]
    });
    stage = 'B leaves red';
    check('leave acknowledged', same(await ask(b.main, 'leave', 'red'), [true]), {});
    a.main.emit('shout', 'red', 'r2');
    await roomStep(all, 'r2', 'A to red after B left', {
      A: [[M, 'room', 'red', 'r2'], [M, 'sentinel', 'r2']],
      B: [[M, 'sentinel', 'r2']],
      C: [[M, 'sentinel', 'r2']]
    });
    check('each socket still on its own transport', all.every(function (cl) {
      return cl.main.socket.transport.name === kinds[cl.name];
    }), { kinds: kinds });
  },

  volatile: async function () {
    // P polls over xhr; H, on the transport under test, makes the server
    // send first, vol (volatile) and later to P by id. first takes P's
    // waiting GET (or is queued), so no GET waits for vol: it is dropped,
    // and later waits for the next GET. A sentinel after them closes the list.
    var p = await roomClient('P', 'xhr-polling', false);
    var h = await roomClient('H', argv.transport, false);
    h.main.emit('volatile_to', p.main.socket.sessionid);
    h.main.emit('shout', 'nobody', 'end');
    await roomStep([p, h], 'end', 'volatile to a poller', {
      P: [['main', 'message', 'first'], ['main', 'message', 'later'], ['main', 'sentinel', 'end']],
      H: [['main', 'sentinel', 'end']]
    });
  },

  client_disconnect: async function () {
    var tag = uniqueTag();
    var nsp = await connected('/?tag=' + tag);
    var disconnected = once(nsp, 'disconnect');
    nsp.disconnect();
    stage = 'waiting for the local "disconnect"';
    await disconnected;
    check('client fired disconnect', true);
    await serverSawClose(tag);
  }
};

// ------------------------------------------------------------------- main

function main () {
  if (!/^https?:\/\/[^/]+$/.test(argv.url || '') ||
      ['websocket', 'xhr-polling'].indexOf(argv.transport) < 0 ||
      !SCENARIOS.hasOwnProperty(argv.scenario)) {
    process.stderr.write('usage: node scenarios.js http://127.0.0.1:PORT ' +
      '{websocket|xhr-polling} {' + Object.keys(SCENARIOS).join('|') + '}' +
      ' [--timeout=SECONDS] [--trace]\n');
    process.exit(EXIT.usage);
  }
  setTimeout(function () {
    finish('timeout', new Error('no result after ' + argv.timeout + ' s'));
  }, argv.timeout * 1000);
  SCENARIOS[argv.scenario]().then(function () {
    finish('pass');
  }, function (err) {
    finish('fail', err);
  });
}

main();
