#!/usr/bin/env node
/*
 * Drives headless Chromium (an installed one, through playwright-core; it
 * never downloads a browser) through the browser test page.
 *
 *   node browser_driver.js --chromium=PATH --page=URL --server=URL
 *        --run=TRANSPORT/SCENARIO/TAG[@SERVER] [--run=...] [--timeout=SECONDS]
 *
 * PAGE is tests/e2e/pages/client.html as served by the page server, SERVER
 * the Socket.IO server root (another origin; a run's own @SERVER overrides
 * it). Chromium is launched once, with
 * a fresh user data directory; every run gets a new tab. stdout gets JSON
 * lines: {"browser": version}, then per run {"run": {...}, "page":
 * window.results, "network": [...], "console": [...], "pageErrors": [...]},
 * then {"done": true}. "network" is what Chromium itself reports: each HTTP
 * request with its status and websocket frames, i.e. the wire as the browser
 * saw it. Exit status: 0 when every run was reported (whatever its outcome),
 * 1 on a driver failure ({"fatal": message}), 3 on bad usage.
 */
'use strict';

var fs = require('fs');
var os = require('os');
var path = require('path');

var TEXT_LIMIT = 300;
var NETWORK_LIMIT = 400;
var CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
];

var started = Date.now();

function out (line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

function excerpt (text) {
  if (text === null || text === undefined) {
    return text;
  }
  text = String(text);
  return text.length <= TEXT_LIMIT ? text :
    text.slice(0, TEXT_LIMIT - 60) + '...[' + text.length + ' chars]...' + text.slice(-40);
}

function parseArgs (argv) {
  var args = { runs: [], timeout: 10 };
  argv.forEach(function (arg) {
    var m = /^--([a-z]+)=(.*)$/.exec(arg);
    if (!m) {
      args.bad = arg;
    } else if (m[1] === 'run') {
      var at = m[2].indexOf('@');
      var parts = (at < 0 ? m[2] : m[2].slice(0, at)).split('/');
      args.runs.push({ transport: parts[0], scenario: parts[1], tag: parts.slice(2).join('/'),
                       server: at < 0 ? null : m[2].slice(at + 1) });
    } else if (m[1] === 'timeout') {
      args.timeout = Number(m[2]);
    } else {
      args[m[1]] = m[2];
    }
  });
  return args;
}

function loadPlaywright () {
  // The project's node_modules, wherever this script is run from.
  var root = path.resolve(__dirname, '..', '..', '..');
  return require(require.resolve('playwright-core', { paths: [root] }));
}

/** Everything Chromium reports about one tab's network traffic. */
function watchNetwork (page, network, pending) {
  var t0 = Date.now();
  function log (entry) {
    entry.ms = Date.now() - t0;
    if (network.length < NETWORK_LIMIT) {
      network.push(entry);
    }
  }
  page.on('request', function (req) {
    var entry = { kind: 'request', method: req.method(), url: req.url(), type: req.resourceType() };
    // The network stack adds Origin after the page made the request: only
    // allHeaders() has it. The entry is filled in when they are known.
    pending.push(req.allHeaders().then(function (headers) {
      if (headers.origin) {
        entry.origin = headers.origin;
      }
    }, function () {}));
    if (req.method() === 'POST') {
      entry.body = excerpt(req.postData());
    }
    log(entry);
  });
  page.on('response', function (res) {
    var headers = res.headers();
    log({ kind: 'response', method: res.request().method(), url: res.url(), status: res.status(),
          acao: headers['access-control-allow-origin'],
          contentType: headers['content-type'] });
  });
  page.on('requestfailed', function (req) {
    var failure = req.failure();
    log({ kind: 'failed', method: req.method(), url: req.url(),
          error: failure ? failure.errorText : null });
  });
  page.on('websocket', function (ws) {
    log({ kind: 'ws-open', url: ws.url() });
    ws.on('framesent', function (frame) { log({ kind: 'ws-sent', data: excerpt(frame.payload) }); });
    ws.on('framereceived', function (frame) {
      log({ kind: 'ws-received', data: excerpt(frame.payload) });
    });
    ws.on('socketerror', function (error) { log({ kind: 'ws-error', error: String(error) }); });
    ws.on('close', function () { log({ kind: 'ws-close' }); });
  });
}

async function runOne (context, args, run) {
  var page = await context.newPage();
  var network = [];
  var consoleLines = [];
  var pageErrors = [];
  var pending = [];
  var t0 = Date.now();
  watchNetwork(page, network, pending);
  page.on('console', function (msg) {
    if (consoleLines.length < NETWORK_LIMIT) {
      consoleLines.push(msg.type() + ': ' + excerpt(msg.text()));
    }
  });
  page.on('pageerror', function (error) { pageErrors.push(String(error)); });
  var query = new URLSearchParams({
    server: run.server || args.server, transport: run.transport, scenario: run.scenario,
    tag: run.tag, timeout: String(args.timeout)
  });
  var results = null;
  var driverError = null;
  try {
    await page.goto(args.page + '?' + query.toString(),
                    { waitUntil: 'domcontentloaded', timeout: args.timeout * 1000 });
    await page.waitForFunction(function () { return window.results && window.results.done; },
                               null, { timeout: (args.timeout + 3) * 1000, polling: 50 });
  } catch (err) {
    driverError = String(err && err.message || err).split('\n')[0];
  }
  try {
    results = await page.evaluate(function () { return window.results || null; });
  } catch (err) {
    driverError = driverError || String(err && err.message || err).split('\n')[0];
  }
  // Headers of finished requests are known by now; a long poll still held
  // by the server would never tell, so do not wait for it.
  await Promise.race([Promise.all(pending), new Promise(function (resolve) {
    setTimeout(resolve, 100);
  })]);
  try {
    await page.close();
  } catch (err) {
    driverError = driverError || 'closing the tab: ' + String(err);
  }
  out({ run: run, page: results, driverError: driverError, ms: Date.now() - t0,
        network: network, console: consoleLines, pageErrors: pageErrors });
}

async function main () {
  var args = parseArgs(process.argv.slice(2));
  if (args.bad || !args.chromium || !args.page || !args.server || !args.runs.length) {
    process.stderr.write('usage: node browser_driver.js --chromium=PATH --page=URL ' +
      '--server=URL --run=TRANSPORT/SCENARIO/TAG[@SERVER] [--run=...] [--timeout=SECONDS]\n');
    process.exit(3);
  }
  var chromium = loadPlaywright().chromium;
  var profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tornadio2-chromium-'));
  process.on('exit', function () {
    fs.rmSync(profile, { recursive: true, force: true });
  });
  var context = await chromium.launchPersistentContext(profile, {
    executablePath: args.chromium,
    headless: true,
    args: CHROMIUM_FLAGS,
    timeout: 30000
  });
  try {
    var browser = context.browser();
    out({ browser: browser ? browser.version() : null, ms: Date.now() - started });
    for (var i = 0; i < args.runs.length; i++) {
      await runOne(context, args, args.runs[i]);
    }
  } finally {
    await context.close();
  }
  out({ done: true, ms: Date.now() - started });
}

main().then(function () {
  process.exit(0);
}, function (err) {
  out({ fatal: String(err && err.stack || err) });
  process.exit(1);
});
