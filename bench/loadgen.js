#!/usr/bin/env node
/*
 * Load generator for the Socket.IO 0.9 benchmarks (bench/run.py drives it).
 *
 *   node loadgen.js '<json config>'
 *
 * Speaks the raw protocol with as little work per message as possible, so
 * that the server, not this process, is the bottleneck: HTTP GET handshake
 * (`/socket.io/1/`), then either `ws://.../socket.io/1/websocket/SID` (the `ws`
 * package) or xhr-polling (node http with keep-alive agents: a long-poll GET
 * loop plus POSTs). Heartbeats `2::` are always answered.
 *
 * Scenarios (config.scenario):
 *   echo      closed loop (inflight 1) or pipelined echo of `3:::N`, websocket
 *   events    `5:::{"name":"ping","args":[N]}` -> pong event, websocket
 *   xhr_echo  closed-loop echo over xhr-polling
 *   idle      N websocket sessions held open: setup rate, server RSS per session
 *   idle_xhr  the same over xhr-polling: each session holds one long-poll GET
 *   broadcast client 0 emits `broadcast` K times, each delivered to all N clients
 *   rooms     N clients in N / roomSize rooms; client 0's event makes the server
 *             emit to every room (or to the one room) K times; all N get each round
 *
 * Everything is bounded: a warm-up and a measured window (or a number of rounds),
 * a drain timeout, per-request timeouts and one global deadline. Prints one JSON
 * line with the result (sent/received counts, errors, rate, p50/p99, the CPU
 * share of the server and of this process over the measured window) and exits.
 * Loopback only.
 */
'use strict';

const fs = require('fs');
const http = require('http');
const { performance } = require('perf_hooks');
const WebSocket = require('ws');

const cfg = Object.assign({
  host: '127.0.0.1',
  clients: 1,
  inflight: 1,
  warmup: 1,            // seconds before the measured window
  duration: 5,          // seconds of the measured window
  drain: 5,             // seconds allowed for in-flight messages after the window
  setupConcurrency: 100,
  setupTimeout: 60,     // seconds for all sessions to connect
  requestTimeout: 10,   // seconds for one handshake / POST / websocket upgrade
  pollTimeout: 40,      // seconds a long-poll GET may stay open
  rounds: 1000,         // broadcast, rooms: most rounds emitted in all (also bounded by time)
  roundsInFlight: 2,    // broadcast, rooms: rounds outstanding at once
  roomSize: 10,         // rooms: clients per room (clients is a multiple of it)
  hold: 5,              // idle: seconds sessions are held after setup
  settle: 1,            // idle: seconds between setup and the RSS reading
  warmSessions: 10,     // idle: sessions opened before the RSS baseline
  heartbeat: 0,         // idle: server heartbeat interval (0: none expected)
  timeout: 120,         // global deadline, seconds
  clkTck: 100,
  serverPid: 0,
  serverPids: null,     // several server processes (and their broker): CPU is their sum
  ports: null,          // several servers: websocket client i uses ports[i % ports.length]
  cores: null,          // [server core, generator core] when pinned: report what else ran there
}, JSON.parse(process.argv[2] || '{}'));

const HOST = cfg.host;
if (HOST !== '127.0.0.1' && HOST !== 'localhost') {
  throw new Error('loopback only');
}
const PORT = cfg.port;
const MAX_ERROR_SAMPLES = 10;
const LATENCY_CAPACITY = 1 << 20;

// -- bookkeeping -------------------------------------------------------------

const result = {
  scenario: cfg.scenario,
  ok: false,
  sent: 0,
  received: 0,
  errors: 0,
  error_samples: [],
  rate: 0,
  window_s: 0,
  p50_ms: null,
  p99_ms: null,
  latency_samples: 0,
  server_cpu: null,
  gen_cpu: null,
  other_cpu: null,      // [on the server core, on the generator core], from other processes
  extra: {},
};
let finished = false;
let tearingDown = false;
const allClients = [];
const agents = [];

function now () {
  return performance.now();
}

function fail (message) {
  result.errors += 1;
  if (result.error_samples.length < MAX_ERROR_SAMPLES) {
    result.error_samples.push(String(message).slice(0, 300));
  }
}

function sleep (seconds) {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

/** Samples of round-trip times (ms); a reservoir once the buffer is full. */
class Latencies {
  constructor (capacity) {
    this.buf = new Float64Array(capacity);
    this.n = 0;
    this.seen = 0;
  }

  add (ms) {
    this.seen += 1;
    if (this.n < this.buf.length) {
      this.buf[this.n++] = ms;
    } else {
      const j = Math.floor(Math.random() * this.seen);
      if (j < this.buf.length) this.buf[j] = ms;
    }
  }

  percentile (p) {
    if (!this.n) return null;
    const sorted = this.buf.slice(0, this.n).sort();
    const index = Math.min(this.n - 1, Math.max(0, Math.ceil(p / 100 * this.n) - 1));
    return Math.round(sorted[index] * 1000) / 1000;
  }

  report () {
    result.p50_ms = this.percentile(50);
    result.p99_ms = this.percentile(99);
    result.latency_samples = this.seen;
  }
}

// -- /proc readings ----------------------------------------------------------

function cpuTicks (pid) {
  try {
    const stat = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    // Fields after the ")" that ends the command name: state is field 3,
    // utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch (err) {
    return null;
  }
}

/** CPU ticks of the server, or the sum over cfg.serverPids (null if one is gone). */
function serverTicks () {
  if (!cfg.serverPids) return cpuTicks(cfg.serverPid);
  let sum = 0;
  for (const pid of cfg.serverPids) {
    const ticks = cpuTicks(pid);
    if (ticks === null) return null;
    sum += ticks;
  }
  return sum;
}

function rssKiB (pid) {
  try {
    const status = fs.readFileSync('/proc/' + pid + '/status', 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : null;
  } catch (err) {
    return null;
  }
}

/** Busy ticks of each CPU (/proc/stat: everything but idle and iowait). */
function coreBusyTicks () {
  const busy = {};
  try {
    for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
      const match = /^cpu(\d+) (.*)$/.exec(line);
      if (!match) continue;
      const f = match[2].trim().split(/\s+/).map(Number);
      busy[match[1]] = f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] || 0);
    }
  } catch (err) {
    return null;
  }
  return busy;
}

/**
 * A measured window: wall time, the CPU ticks of the server and of us, and
 * (when pinned) how busy the two cores were with anything else.
 */
class Window {
  constructor () {
    this.start = now();
    this.end = null;
    this.server0 = serverTicks();
    this.gen0 = cpuTicks(process.pid);
    this.cores0 = cfg.cores ? coreBusyTicks() : null;
  }

  close () {
    this.end = now();
    const seconds = (this.end - this.start) / 1000;
    const server1 = serverTicks();
    const gen1 = cpuTicks(process.pid);
    this.seconds = seconds;
    this.serverCpu = (server1 === null || this.server0 === null)
      ? null : round3((server1 - this.server0) / cfg.clkTck / seconds);
    this.genCpu = (gen1 === null || this.gen0 === null)
      ? null : round3((gen1 - this.gen0) / cfg.clkTck / seconds);
    this.otherOnCores = null;
    const cores1 = this.cores0 ? coreBusyTicks() : null;
    if (cores1 && this.serverCpu !== null && this.genCpu !== null) {
      const busy = (core) => (cores1[core] - this.cores0[core]) / cfg.clkTck / seconds;
      this.otherOnCores = [
        round3(Math.max(0, busy(cfg.cores[0]) - this.serverCpu)),
        round3(Math.max(0, busy(cfg.cores[1]) - this.genCpu)),
      ];
    }
    return this;
  }

  contains (t) {
    return t >= this.start && (this.end === null || t <= this.end);
  }

  report (count) {
    result.window_s = round3(this.seconds);
    result.rate = Math.round(count / this.seconds * 10) / 10;
    result.server_cpu = this.serverCpu;
    result.gen_cpu = this.genCpu;
    result.other_cpu = this.otherOnCores;
  }
}

function round3 (x) {
  return Math.round(x * 1000) / 1000;
}

// -- HTTP --------------------------------------------------------------------

function newAgent (maxSockets) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxSockets });
  agents.push(agent);
  return agent;
}

const setupAgent = newAgent(cfg.setupConcurrency);

/** One HTTP request; resolves {status, body}. */
function request (method, path, agent, body, timeoutSeconds, port) {
  return new Promise((resolve, reject) => {
    const headers = {};
    if (body !== undefined) {
      headers['Content-Type'] = 'text/plain;charset=UTF-8';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const req = http.request({ host: HOST, port: port || PORT, method, path, agent, headers },
      (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(method + ' ' + path.split('?')[0] + ' timed out'));
    }, timeoutSeconds * 1000);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

async function handshake (transport, port) {
  const res = await request('GET', '/socket.io/1/?t=' + Date.now(), setupAgent, undefined,
    cfg.requestTimeout, port);
  const parts = res.body.split(':');
  if (res.status !== 200 || parts.length < 4) {
    throw new Error('handshake answered ' + res.status + ' ' + JSON.stringify(res.body.slice(0, 80)));
  }
  if (parts[3].split(',').indexOf(transport) < 0) {
    throw new Error('handshake does not offer ' + transport + ': ' + res.body);
  }
  return parts[0];
}

/** Split an xhr-polling body into packets (lengths are JS string lengths). */
function decodePayload (body) {
  if (body.charAt(0) !== '\ufffd') return [body];
  const packets = [];
  let i = 0;
  while (i < body.length) {
    if (body.charAt(i) !== '\ufffd') throw new Error('bad framing at ' + i);
    const end = body.indexOf('\ufffd', i + 1);
    if (end < 0) throw new Error('unterminated frame length');
    const length = Number(body.slice(i + 1, end));
    if (!(length >= 0)) throw new Error('bad frame length');
    packets.push(body.substr(end + 1, length));
    i = end + 1 + length;
  }
  return packets;
}

// -- clients -----------------------------------------------------------------

/** A websocket session: resolves open() once `1::` arrived. */
class WsClient {
  constructor (id, onPacket) {
    this.id = id;
    this.onPacket = onPacket;
    this.ws = null;
    this.connected = false;
    this.closed = false;
    this.heartbeats = 0;
  }

  async open () {
    const port = cfg.ports ? cfg.ports[this.id % cfg.ports.length] : PORT;
    const sid = await handshake('websocket', port);
    await new Promise((resolve, reject) => {
      const url = 'ws://' + HOST + ':' + port + '/socket.io/1/websocket/' + sid;
      const ws = new WebSocket(url, {
        perMessageDeflate: false, handshakeTimeout: cfg.requestTimeout * 1000,
      });
      this.ws = ws;
      const timer = setTimeout(() => reject(new Error('no 1:: within timeout')),
        cfg.requestTimeout * 1000);
      ws.on('message', (data) => {
        const text = data.toString();
        if (text === '2::') {
          this.heartbeats += 1;
          ws.send('2::');
        } else if (this.connected) {
          this.onPacket(this, text);
        } else if (text === '1::') {
          this.connected = true;
          clearTimeout(timer);
          resolve();
        } else {
          clearTimeout(timer);
          reject(new Error('expected 1::, got ' + JSON.stringify(text.slice(0, 80))));
        }
      });
      ws.on('error', (err) => {
        clearTimeout(timer);
        if (this.connected && !tearingDown) fail('client ' + this.id + ': ' + err.message);
        reject(err);
      });
      ws.on('close', (code) => {
        this.closed = true;
        clearTimeout(timer);
        if (!tearingDown) {
          if (this.connected) fail('client ' + this.id + ': server closed the websocket (' + code + ')');
          reject(new Error('websocket closed before 1:: (' + code + ')'));
        }
      });
    });
  }

  send (text) {
    this.ws.send(text);
  }

  close () {
    if (this.ws) this.ws.terminate();
  }
}

/** An xhr-polling session: a long-poll GET loop and POSTs on a keep-alive agent. */
class XhrClient {
  constructor (id, onPacket) {
    this.id = id;
    this.onPacket = onPacket;
    this.agent = newAgent(2);
    this.path = null;
    this.connected = false;
    this.closed = false;
    this.heartbeats = 0;
    this._onConnect = null;
  }

  async open () {
    const sid = await handshake('xhr-polling');
    this.path = '/socket.io/1/xhr-polling/' + sid;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no 1:: within timeout')),
        cfg.requestTimeout * 1000);
      this._onConnect = (err) => {
        clearTimeout(timer);
        if (err) reject(err); else resolve();
      };
      this._poll();
    });
  }

  _poll () {
    if (tearingDown || this.closed) return;
    request('GET', this.path + '?t=' + Date.now(), this.agent, undefined, cfg.pollTimeout)
      .then((res) => {
        if (res.status !== 200) throw new Error('poll answered ' + res.status + ' ' + res.body.slice(0, 80));
        for (const packet of decodePayload(res.body)) this._packet(packet);
        this._poll();
      })
      .catch((err) => {
        if (tearingDown) return;
        this.closed = true;
        if (this.connected) fail('client ' + this.id + ' poll: ' + err.message);
        else if (this._onConnect) this._onConnect(err);
      });
  }

  _packet (packet) {
    if (packet === '8::') return;
    if (packet === '2::') {
      this.heartbeats += 1;
      this.send('2::');
    } else if (this.connected) {
      this.onPacket(this, packet);
    } else if (packet === '1::') {
      this.connected = true;
      this._onConnect(null);
    } else {
      this._onConnect(new Error('expected 1::, got ' + JSON.stringify(packet.slice(0, 80))));
    }
  }

  send (text) {
    request('POST', this.path + '?t=' + Date.now(), this.agent, text, cfg.requestTimeout)
      .then((res) => {
        if (res.status !== 200 || res.body !== '1') {
          fail('client ' + this.id + ' POST answered ' + res.status + ' ' + res.body.slice(0, 80));
        }
      })
      .catch((err) => {
        if (!tearingDown) fail('client ' + this.id + ' POST: ' + err.message);
      });
  }

  close () {
    this.closed = true;
    this.agent.destroy();
  }
}

/** Open `count` sessions, at most cfg.setupConcurrency at a time. */
async function openClients (Kind, count, onPacket, firstId) {
  const clients = [];
  let next = 0;
  let failures = 0;
  async function worker () {
    while (next < count && !finished) {
      const client = new Kind((firstId || 0) + next++, onPacket);
      allClients.push(client);
      try {
        await client.open();
        clients.push(client);
      } catch (err) {
        failures += 1;
        fail('setup of client ' + client.id + ': ' + err.message);
        if (failures > 20) throw new Error('too many setup failures');
      }
    }
  }
  const workers = [];
  for (let i = 0; i < Math.min(cfg.setupConcurrency, count); i++) workers.push(worker());
  await withDeadline(Promise.all(workers), cfg.setupTimeout, 'session setup');
  return clients;
}

function withDeadline (promise, seconds, what) {
  let timer;
  const deadline = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(what + ' took longer than ' + seconds + ' s')),
      seconds * 1000);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

// -- scenarios ---------------------------------------------------------------

const ENCODERS = {
  message: (seq) => '3:::' + seq,
  event: (seq) => '5:::{"name":"ping","args":[' + seq + ']}',
};
const DECODERS = {
  message: (text) => (text.startsWith('3:::') ? text.slice(4) : null),
  event: (text) => {
    if (!text.startsWith('5:::')) return null;
    const ev = JSON.parse(text.slice(4));
    return ev.name === 'pong' && Array.isArray(ev.args) ? String(ev.args[0]) : null;
  },
};

/**
 * Echo-style load: every client keeps `inflight` messages outstanding and
 * sends a new one for each reply, until the measured window ends; replies
 * must come back in order with the same payload.
 */
async function echoLoad (Kind, kind) {
  const encode = ENCODERS[kind];
  const decode = DECODERS[kind];
  const latencies = new Latencies(LATENCY_CAPACITY);
  let stopping = false;
  let inflight = 0;
  let window = null;
  let measured = 0;
  let drained = null;

  function sendNext (client) {
    const seq = client.seq++;
    client.pending.push(seq, now());
    inflight += 1;
    result.sent += 1;
    client.send(encode(seq));
  }

  function onPacket (client, text) {
    const t = now();
    let got;
    try {
      got = decode(text);
    } catch (err) {
      got = null;
    }
    if (got === null || client.pending.length === 0) {
      fail('client ' + client.id + ': unexpected packet ' + JSON.stringify(text.slice(0, 80)));
      return;
    }
    const seq = client.pending.shift();
    const sentAt = client.pending.shift();
    if (got !== String(seq)) {
      fail('client ' + client.id + ': expected echo of ' + seq + ', got ' + JSON.stringify(text.slice(0, 80)));
    }
    inflight -= 1;
    result.received += 1;
    if (window && window.contains(t)) {
      measured += 1;
      latencies.add(t - sentAt);
    }
    if (!stopping) sendNext(client);
    else if (inflight === 0 && drained) drained();
  }

  const clients = await openClients(Kind, cfg.clients, onPacket);
  if (clients.length < cfg.clients) throw new Error('not all clients connected');
  for (const client of clients) {
    client.seq = 0;
    client.pending = [];   // seq, sentAt, seq, sentAt, ...
  }
  for (const client of clients) {
    for (let i = 0; i < cfg.inflight; i++) sendNext(client);
  }
  await sleep(cfg.warmup);
  window = new Window();
  await sleep(cfg.duration);
  window.close();
  stopping = true;
  if (inflight > 0) {
    await withDeadline(new Promise((resolve) => { drained = resolve; }), cfg.drain, 'drain')
      .catch((err) => fail(err.message + ': ' + inflight + ' replies missing'));
  }
  window.report(measured);
  latencies.report();
  result.extra.clients = clients.length;
  result.extra.inflight = cfg.inflight;
  result.extra.heartbeats = clients.reduce((sum, c) => sum + c.heartbeats, 0);
}

/** Idle sessions: setup rate, server memory per session, heartbeats while held. */
async function idleLoad (Client) {
  const onPacket = (client, text) => {
    fail('idle client ' + client.id + ' got ' + JSON.stringify(text.slice(0, 80)));
  };
  const warm = await openClients(Client, cfg.warmSessions, onPacket, 1e9);
  if (warm.length < cfg.warmSessions) throw new Error('warm-up sessions failed');
  await sleep(0.2);
  const rss0 = rssKiB(cfg.serverPid);
  const setup = new Window();
  const clients = await openClients(Client, cfg.clients, onPacket);
  setup.close();
  setup.report(clients.length);
  result.sent = cfg.clients;
  await sleep(cfg.settle);
  const rss1 = rssKiB(cfg.serverPid);
  const beatsBefore = clients.reduce((sum, c) => sum + c.heartbeats, 0);
  const hold = new Window();
  await sleep(cfg.hold);
  hold.close();
  const open = clients.filter((c) => !c.closed);
  result.received = open.length;
  const beats = clients.reduce((sum, c) => sum + c.heartbeats, 0);
  const silent = clients.filter((c) => c.heartbeats === 0).length;
  if (cfg.heartbeat > 0 && silent > 0) {
    fail(silent + ' sessions never got a heartbeat (interval ' + cfg.heartbeat + ' s)');
  }
  Object.assign(result.extra, {
    sessions: clients.length,
    setup_s: round3(setup.seconds),
    rss_before_kib: rss0,
    rss_after_kib: rss1,
    mem_per_session_kib: (rss0 !== null && rss1 !== null)
      ? round3((rss1 - rss0) / cfg.clients) : null,
    heartbeats: beats,
    heartbeats_in_hold: beats - beatsBefore,
    heartbeats_per_s: round3((beats - beatsBefore) / hold.seconds),
    hold_s: round3(hold.seconds),
    hold_server_cpu: hold.serverCpu,
    hold_gen_cpu: hold.genCpu,
  });
}

/**
 * Fan-out: client 0 sends `request(round)`, keeping `roundsInFlight` rounds
 * outstanding; every one of the N clients must get every round's event
 * `name`, in order. A round is complete when all N got it. `setup(clients)`
 * runs once all are connected, before the first round.
 */
async function fanoutLoad (name, request, setup) {
  const latencies = new Latencies(LATENCY_CAPACITY);
  const delivered = [];   // round -> deliveries so far
  const emittedAt = [];   // round -> time of the emit
  const prefix = '5:::{"name":"' + name + '"';
  let emitted = 0;
  let completed = 0;
  let stopping = false;
  let window = null;
  let measured = 0;
  let drained = null;
  let sender = null;

  function emit () {
    const round = emitted++;
    delivered.push(0);
    emittedAt.push(now());
    result.sent += cfg.clients;
    sender.send(request(round));
  }

  function onPacket (client, text) {
    if (client.onSetup) {
      client.onSetup(text);
      return;
    }
    const t = now();
    let got = null;
    try {
      const ev = text.startsWith(prefix) ? JSON.parse(text.slice(4)) : null;
      if (ev && Array.isArray(ev.args)) got = ev.args[0];
    } catch (err) {
      got = null;
    }
    if (got !== client.nextRound || got >= emitted) {
      fail('client ' + client.id + ' expected round ' + client.nextRound + ', got ' +
        JSON.stringify(text.slice(0, 80)));
      return;
    }
    client.nextRound += 1;
    result.received += 1;
    if (window && window.contains(t)) {
      measured += 1;
      latencies.add(t - emittedAt[got]);
    }
    if (++delivered[got] < cfg.clients) return;
    completed += 1;
    if (!stopping && emitted < cfg.rounds) emit();
    else if (completed === emitted && drained) drained();
  }

  const clients = await openClients(WsClient, cfg.clients, onPacket);
  if (clients.length < cfg.clients) throw new Error('not all clients connected');
  if (setup) await setup(clients);
  for (const client of clients) client.nextRound = 0;
  sender = clients[0];
  for (let i = 0; i < cfg.roundsInFlight; i++) emit();
  await sleep(cfg.warmup);
  window = new Window();
  const allRounds = new Promise((resolve) => { drained = resolve; });
  await Promise.race([sleep(cfg.duration), allRounds]);
  window.close();
  stopping = true;
  if (completed < emitted) {
    await withDeadline(allRounds, cfg.drain, 'drain')
      .catch((err) => fail(err.message + ': ' + (emitted - completed) + ' rounds incomplete'));
  }
  window.report(measured);
  latencies.report();
  Object.assign(result.extra, {
    clients: clients.length, rounds: emitted, rounds_in_flight: cfg.roundsInFlight,
  });
}

/** Broadcast: each round is one `broadcast` event, delivered to every client as `bcast`. */
function broadcastLoad () {
  return fanoutLoad('bcast', (round) => '5:::{"name":"broadcast","args":[' + round + ']}');
}

/**
 * Rooms: client i joins room `r<floor(i / roomSize)>` (the server answers
 * `joined`); each round is one event from client 0 that makes the server
 * send `rmsg` to every room (`every_room`, the server loops over the rooms),
 * or, with a single room, one `room_emit` to it. Every client gets every round.
 */
function roomsLoad () {
  const size = cfg.roomSize;
  if (!(size > 0) || cfg.clients % size !== 0) {
    throw new Error('clients must be a multiple of roomSize');
  }
  const rooms = cfg.clients / size;
  const request = rooms === 1
    ? (round) => '5:::{"name":"room_emit","args":["r0",' + round + ']}'
    : (round) => '5:::{"name":"every_room","args":[' + round + ',' + rooms + ']}';
  return fanoutLoad('rmsg', request, async (clients) => {
    let pending = clients.length;
    const allJoined = new Promise((resolve) => {
      for (const client of clients) {
        const room = 'r' + Math.floor(client.id / size);
        client.onSetup = (text) => {
          if (text === '5:::{"name":"joined","args":["' + room + '"]}') {
            client.onSetup = null;
            if (--pending === 0) resolve();
          } else {
            fail('client ' + client.id + ' expected joined ' + room + ', got ' +
              JSON.stringify(text.slice(0, 80)));
          }
        };
        client.send('5:::{"name":"join","args":["' + room + '"]}');
      }
    });
    await withDeadline(allJoined, cfg.setupTimeout, 'joining rooms');
    Object.assign(result.extra, { rooms: rooms, room_size: size });
  });
}

const SCENARIOS = {
  echo: () => echoLoad(WsClient, 'message'),
  events: () => echoLoad(WsClient, 'event'),
  xhr_echo: () => echoLoad(XhrClient, 'message'),
  idle: () => idleLoad(WsClient),
  idle_xhr: () => idleLoad(XhrClient),
  broadcast: broadcastLoad,
  rooms: roomsLoad,
};

// -- main ----------------------------------------------------------------------

function finish () {
  if (finished) return;
  finished = true;
  tearingDown = true;
  result.ok = result.errors === 0 && result.sent === result.received && result.sent > 0;
  process.stdout.write(JSON.stringify(result) + '\n', () => {
    for (const client of allClients) {
      try { client.close(); } catch (err) { /* already gone */ }
    }
    for (const agent of agents) agent.destroy();
    process.exit(0);
  });
}

async function main () {
  const scenario = SCENARIOS[cfg.scenario];
  if (!scenario) throw new Error('unknown scenario ' + cfg.scenario);
  if (!PORT) throw new Error('no port');
  const deadline = setTimeout(() => {
    fail('generator deadline of ' + cfg.timeout + ' s reached');
    finish();
  }, cfg.timeout * 1000);
  try {
    await scenario();
  } catch (err) {
    fail(err.message);
  }
  clearTimeout(deadline);
  finish();
}

main();
