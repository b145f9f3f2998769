/*
 * Browser scenarios for socket.io-client 0.9.16 against a Socket.IO 0.9
 * server on another origin (tornadio2's browser_app.py or the native server).
 *
 * client.html?server=ROOT&transport=NAME&scenario=NAME&tag=TAG[&timeout=S]
 *
 * The scenario starts on window load. Every assertion is pushed to
 * window.results.checks and logged to the console as "e2e check {...}";
 * when the scenario ends window.results.done is true and
 * window.results.outcome is "pass", "fail" or "timeout". window.results.trace
 * holds the raw Socket.IO data the client library sent and received.
 */
'use strict';

(function () {
  var params = new URLSearchParams(window.location.search);
  var server = (params.get('server') || '').replace(/\/+$/, '');
  var transport = params.get('transport') || '';
  var scenario = params.get('scenario') || '';
  var tag = params.get('tag') || 'page' + Date.now();
  var timeoutMs = Number(params.get('timeout') || 10) * 1000;
  var started = Date.now();
  var TRACE_LIMIT = 300;
  var TRACE_TEXT = 300;

  // Escapes keep this file ASCII whatever charset the browser assumes.
  var PAYLOADS = [
    '\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440', // Cyrillic
    '\ud83d\ude00',                                             // emoji (astral)
    '\ufffd',                                                   // the framing character
    '\ufffd3\ufffdabc',                                         // looks like a frame
    '\u0451\ud83d\ude00\ufffd\ud834\udd1e end'                  // all of them
  ];
  // What the server's "greet" event emits (GREETING in browser_app.py).
  var GREETING = '\u041f\u0440\u0438\u0432\u0435\u0442 \ud83d\ude00 \ufffd \ud834\udd1e';

  var results = window.results = {
    done: false,
    outcome: null,
    scenario: scenario,
    transport: transport,
    tag: tag,
    origin: window.location.origin,
    stage: 'loading',
    checks: [],
    events: [],
    trace: [],
    error: null,
    ms: null
  };

  function excerpt (text) {
    text = String(text);
    return text.length <= TRACE_TEXT ? text :
      text.slice(0, TRACE_TEXT - 60) + '...[' + text.length + ' chars]...' + text.slice(-40);
  }

  function record (direction, data) {
    if (results.trace.length < TRACE_LIMIT) {
      results.trace.push({ ms: Date.now() - started, dir: direction, data: excerpt(data) });
    }
  }

  function note (what) {
    results.events.push({ ms: Date.now() - started, event: what });
    console.log('e2e event ' + what);
  }

  function check (name, ok, detail) {
    var line = { check: name, ok: !!ok };
    if (detail !== undefined) {
      line.detail = detail;
    }
    results.checks.push(line);
    console.log('e2e check ' + JSON.stringify(line));
    if (!ok) {
      throw new Error('check failed: ' + name);
    }
  }

  function finish (outcome, error) {
    if (results.done) {
      return;
    }
    results.outcome = outcome;
    results.error = error ? String(error && error.message || error) : null;
    results.ms = Date.now() - started;
    results.done = true;
    console.log('e2e result ' + JSON.stringify({ outcome: outcome, stage: results.stage,
                                                 error: results.error }));
  }

  function same (a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  /** UTF-16 code units of a short string, readable evidence for unicode failures. */
  function units (text) {
    if (typeof text !== 'string') {
      return text;
    }
    var out = [];
    for (var i = 0; i < text.length && i < 64; i++) {
      out.push(text.charCodeAt(i).toString(16));
    }
    return out.join(' ');
  }

  function printable (args) {
    return args.map(function (a) { return typeof a === 'function' ? '<ack fn>' : a; });
  }

  // ------------------------------------------------------------ wire trace

  function instrument () {
    var T = io.Transport;
    var onData = T.prototype.onData;
    T.prototype.onData = function (data) {
      record('in', data);
      return onData.apply(this, arguments);
    };
    var wsSend = T.websocket.prototype.send;
    T.websocket.prototype.send = function (data) {
      record('out', data);
      return wsSend.apply(this, arguments);
    };
    var xhrPost = T.XHR.prototype.post;
    T.XHR.prototype.post = function (data) {
      record('out', data);
      return xhrPost.apply(this, arguments);
    };
    var jsonpPost = T['jsonp-polling'].prototype.post;
    T['jsonp-polling'].prototype.post = function (data) {
      record('out', data);
      return jsonpPost.apply(this, arguments);
    };
  }

  // --------------------------------------------------------------- helpers

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
      nsp.once(name, function () { resolve([].slice.call(arguments)); });
    });
  }

  /**
   * A new connection to the server forcing the transport under test (or
   * `forced`, for scenarios that mix transports on one page).
   * socket.io-client 0.9 merges the `transports` option into the global
   * default list index by index, so the global list is replaced too (by a
   * new array: sockets made earlier keep theirs).
   */
  function open (query, forced) {
    forced = forced || transport;
    io.transports = [forced];
    var nsp = io.connect(server + '/?' + query, {
      'force new connection': true,
      'reconnect': false,
      'try multiple transports': false,
      'connect timeout': 8000,
      'transports': [forced]
    });
    ['connect', 'connecting', 'connect_failed', 'error', 'disconnect'].forEach(function (name) {
      nsp.on(name, function (arg) {
        note(name + (arg !== undefined ? ' ' + JSON.stringify(arg) : ''));
      });
    });
    return nsp;
  }

  async function connected (query, forced) {
    forced = forced || transport;
    var nsp = open(query || 'tag=' + encodeURIComponent(tag), forced);
    results.stage = 'waiting for connect';
    var failed = new Promise(function (resolve, reject) {
      ['error', 'connect_failed'].forEach(function (name) {
        nsp.once(name, function (reason) {
          if (!nsp.socket.connected) {
            reject(new Error(name + ' before connect: ' + JSON.stringify(reason)));
          }
        });
      });
    });
    await Promise.race([once(nsp, 'connect'), failed]);
    var name = nsp.socket.transport && nsp.socket.transport.name;
    check('transport is ' + forced, name === forced, { actual: name });
    return nsp;
  }

  // ---------------------------------------------------------- room helpers

  /** What the room scenarios log, in arrival order, per socket. */
  var ROOM_EVENTS = ['room', 'others', 'sentinel', 'message'];

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
   * One socket of a room scenario, tagged TAG.NAME, on `forced`, with its
   * /chat endpoint if `withChat`; one log of what both endpoints received.
   */
  async function roomClient (name, forced, withChat) {
    var client = { name: name, main: null, chat: null, log: [], seen: 0, waiters: [] };
    function listen (nsp, label) {
      ROOM_EVENTS.forEach(function (event) {
        nsp.on(event, function () {
          client.log.push([label, event].concat([].slice.call(arguments)));
          client.waiters = client.waiters.filter(function (w) { return !w(); });
        });
      });
    }
    client.main = await connected('tag=' + encodeURIComponent(tag + '.' + name), forced);
    listen(client.main, 'main');
    if (withChat) {
      client.chat = client.main.socket.of('/chat');
      results.stage = 'waiting for connect of ' + name + '/chat';
      await once(client.chat, 'connect');
      listen(client.chat, 'chat');
    }
    return client;
  }

  /** What `client` got since the last step, up to and including the sentinel `payload`. */
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

  /** Awaits the sentinel `payload` on every socket and checks each one's exact log. */
  async function roomStep (clients, payload, what, expected) {
    results.stage = 'waiting for sentinel ' + payload + ' (' + what + ')';
    var got = await Promise.all(clients.map(function (c) { return untilSentinel(c, payload); }));
    clients.forEach(function (c, i) {
      check(what + ': ' + c.name + ' got exactly its share', same(got[i], expected[c.name]),
            { got: got[i], expected: expected[c.name] });
    });
  }

  /** Asks the server, over a fresh connection, whether the tagged socket closed. */
  async function serverSawClose () {
    var observer = await connected('tag=' + encodeURIComponent(tag + '.observer'));
    results.stage = 'asking the server whether on_close ran';
    var answer = await new Promise(function (resolve) {
      observer.emit('was_closed', tag, function (value) { resolve(value); });
    });
    check('server reports on_close of the tagged socket', answer === true, { answer: answer });
    observer.disconnect();
  }

  // ------------------------------------------------------------- scenarios

  var SCENARIOS = {
    connect: async function () {
      var nsp = await connected();
      check('connected with a session id', !!nsp.socket.sessionid,
            { sessionid: nsp.socket.sessionid });
      check('page and server are on different origins',
            window.location.origin !== new URL(server).origin,
            { page: window.location.origin, server: server });
    },

    send_echo: async function () {
      var nsp = await connected();
      var messages = collect(nsp, 'message');
      nsp.send('hello from the page');
      results.stage = 'waiting for the echo';
      await messages.until(1);
      check('echo of send()', same(messages.items, [['hello from the page']]),
            { got: messages.items });
    },

    emit_ack: async function () {
      var nsp = await connected();
      results.stage = 'waiting for the ack of emit("add", 2, 3, fn)';
      var args = await new Promise(function (resolve) {
        nsp.emit('add', 2, 3, function () { resolve([].slice.call(arguments)); });
      });
      check('ack callback gets the value the handler returned', same(args, [5]), { got: args });
    },

    server_ack: async function () {
      var nsp = await connected();
      var questions = collect(nsp, 'question');
      var acked = collect(nsp, 'acked');
      nsp.emit('ask', 'sure?');
      results.stage = 'waiting for the server event "question"';
      await questions.until(1);
      var q = questions.items[0];
      var ack = q[q.length - 1];
      check('server event asks for an ack (id with "+")', typeof ack === 'function',
            { args: printable(q) });
      check('question carries its argument', same(q.slice(0, -1), ['sure?']),
            { got: printable(q) });
      ack('yes', { n: 42 });
      results.stage = 'waiting for "acked" (the server callback ran)';
      await acked.until(1);
      check('server callback got the ack arguments', same(acked.items[0], [['yes', { n: 42 }]]),
            { got: acked.items });
    },

    multiplex: async function () {
      var main = await connected();
      // A forced new connection is not cached by io.connect: register it so
      // that the endpoint connects below share it.
      io.sockets[io.util.uniqueUri(io.util.parseUri(server))] = main.socket;
      var chat = io.connect(server + '/chat');
      var news = io.connect(server + '/news');
      var mainMessages = collect(main, 'message');
      var chatMessages = collect(chat, 'message');
      var newsMessages = collect(news, 'message');
      results.stage = 'waiting for connect of /chat and /news';
      await Promise.all([once(chat, 'connect'), once(news, 'connect')]);
      check('both endpoints use the one connection',
            chat.socket === main.socket && news.socket === main.socket);
      chat.send('to chat');
      news.send('to news');
      main.send('to main');
      results.stage = 'waiting for the echoes on /chat, /news and the main endpoint';
      await Promise.all([chatMessages.until(1), newsMessages.until(1), mainMessages.until(1)]);
      check('/chat echoes with its prefix', same(chatMessages.items, [['chat:to chat']]),
            { got: chatMessages.items });
      check('/news echoes with its prefix', same(newsMessages.items, [['news:to news']]),
            { got: newsMessages.items });
      check('main endpoint got only its own echo', same(mainMessages.items, [['to main']]),
            { got: mainMessages.items });
      check('still the first session', main.socket.transport.sessid === main.socket.sessionid &&
            main.socket.transport.name === transport, {});
    },

    unicode: async function () {
      var nsp = await connected();
      var messages = collect(nsp, 'message');
      var pongs = collect(nsp, 'pong');
      var greetings = collect(nsp, 'greeting');
      // All at once, so polling transports carry several packets per request
      // and response (UTF-16 frame lengths, U+FFFD inside the data).
      PAYLOADS.forEach(function (text) {
        nsp.send(text);
        nsp.emit('ping', text);
      });
      nsp.emit('greet');
      results.stage = 'waiting for the unicode echoes and the greeting';
      await Promise.all([messages.until(PAYLOADS.length), pongs.until(PAYLOADS.length),
                         greetings.until(1)]);
      PAYLOADS.forEach(function (text, i) {
        var echoed = messages.items[i][0];
        check('send() round trip of [' + units(text) + ']', echoed === text,
              { got: units(echoed) });
        var ponged = pongs.items[i];
        check('emit() round trip of [' + units(text) + ']', same(ponged, [text]),
              { got: ponged.map(units) });
      });
      check('server-made greeting arrives exact', same(greetings.items, [[GREETING]]),
            { got: greetings.items.map(function (args) { return args.map(units); }) });
    },

    server_close: async function () {
      var nsp = await connected();
      var packets = [];
      var onPacket = nsp.socket.onPacket;
      nsp.socket.onPacket = function (packet) {
        packets.push(packet.type + ':' + packet.endpoint);
        return onPacket.apply(this, arguments);
      };
      var disconnected = once(nsp, 'disconnect');
      nsp.emit('kick');
      results.stage = 'waiting for "disconnect" after the server closed';
      var args = await disconnected;
      check('page saw the disconnect', true, { reason: args[0] });
      check('the server sent a disconnect packet (0::)', packets.indexOf('disconnect:') >= 0,
            { packets: packets });
      check('socket no longer connected', nsp.socket.connected === false);
      await serverSawClose();
    },

    client_disconnect: async function () {
      var nsp = await connected();
      var disconnected = once(nsp, 'disconnect');
      nsp.disconnect();
      results.stage = 'waiting for the local "disconnect"';
      await disconnected;
      check('page fired disconnect', nsp.socket.connected === false);
      await serverSawClose();
    },

    rooms: async function () {
      // Three sockets on this page: A and C on the transport under test, B
      // on another one. red = {A, B}, blue = {B, C} on the main endpoint,
      // red = {C} on /chat. Each send is followed by a sentinel to the
      // endpoint, so a socket's exact log also proves what it did not get.
      var kinds = { A: transport, B: transport === 'websocket' ? 'xhr-polling' : 'websocket',
                    C: transport };
      var a = await roomClient('A', kinds.A, true);
      var b = await roomClient('B', kinds.B, true);
      var c = await roomClient('C', kinds.C, true);
      var all = [a, b, c];
      results.stage = 'joining rooms';
      var joined = await Promise.all([ask(a.main, 'join', 'red'), ask(b.main, 'join', 'red'),
        ask(b.main, 'join', 'blue'), ask(c.main, 'join', 'blue'), ask(c.chat, 'join', 'red')]);
      check('every join acknowledged', same(joined, [[true], [true], [true], [true], [true]]),
            { got: joined });
      var M = 'main';
      var CHAT = 'chat';
      a.main.emit('shout', 'red', 'r1');
      await roomStep(all, 'r1', 'A to red', {
        A: [[M, 'room', 'red', 'r1'], [M, 'sentinel', 'r1']],
        B: [[M, 'room', 'red', 'r1'], [M, 'sentinel', 'r1']],
        C: [[M, 'sentinel', 'r1']]
      });
      c.main.emit('shout', 'blue', 'b1');
      await roomStep(all, 'b1', 'C to blue', {
        A: [[M, 'sentinel', 'b1']],
        B: [[M, 'room', 'blue', 'b1'], [M, 'sentinel', 'b1']],
        C: [[M, 'room', 'blue', 'b1'], [M, 'sentinel', 'b1']]
      });
      a.main.emit('tell_others', null, 'o1');
      await roomStep(all, 'o1', 'A broadcast', {
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
        A: [[CHAT, 'sentinel', 'c1']],
        B: [[CHAT, 'sentinel', 'c1']],
        C: [[CHAT, 'room', 'red', 'c1'], [CHAT, 'sentinel', 'c1']]
      });
      check('each socket still on its own transport', all.every(function (cl) {
        return cl.main.socket.transport.name === kinds[cl.name];
      }), { kinds: kinds });
    },

    volatile: async function () {
      // P polls (jsonp when that is under test, else xhr); H, on the
      // transport under test, has the server send first, vol (volatile)
      // and later to P by id: first takes P's waiting GET, vol finds none.
      var polling = transport === 'jsonp-polling' ? 'jsonp-polling' : 'xhr-polling';
      var p = await roomClient('P', polling, false);
      var h = await roomClient('H', transport, false);
      h.main.emit('volatile_to', p.main.socket.sessionid);
      h.main.emit('shout', 'nobody', 'end');
      await roomStep([p, h], 'end', 'volatile to a poller', {
        P: [['main', 'message', 'first'], ['main', 'message', 'later'],
            ['main', 'sentinel', 'end']],
        H: [['main', 'sentinel', 'end']]
      });
    },

    refused: async function () {
      // The server does not allow this page's origin: the handshake must fail.
      var nsp = open('tag=' + encodeURIComponent(tag));
      results.stage = 'waiting for the handshake to be refused';
      var outcome = await new Promise(function (resolve) {
        nsp.once('connect', function () { resolve('connect'); });
        nsp.once('error', function (reason) { resolve('error ' + JSON.stringify(reason)); });
        nsp.once('connect_failed', function () { resolve('connect_failed'); });
      });
      check('no connect, an error instead', outcome.indexOf('error') === 0 ||
            outcome === 'connect_failed', { outcome: outcome });
      check('no session id from the handshake', !nsp.socket.sessionid,
            { sessionid: nsp.socket.sessionid });
      check('socket not connected', nsp.socket.connected === false && !nsp.socket.open);
    }
  };

  function main () {
    if (!/^https?:\/\/[^/]+$/.test(server) || !SCENARIOS.hasOwnProperty(scenario) ||
        ['websocket', 'xhr-polling', 'jsonp-polling'].indexOf(transport) < 0) {
      finish('fail', new Error('bad query: server=' + server + ' transport=' + transport +
                               ' scenario=' + scenario));
      return;
    }
    if (typeof io === 'undefined' || !io.Transport) {
      finish('fail', new Error('socket.io.js did not load'));
      return;
    }
    instrument();
    setTimeout(function () {
      finish('timeout', new Error('no result after ' + timeoutMs + ' ms'));
    }, timeoutMs);
    results.stage = 'starting';
    SCENARIOS[scenario]().then(function () {
      finish('pass');
    }, function (err) {
      finish('fail', err);
    });
  }

  window.addEventListener('load', main);
})();
