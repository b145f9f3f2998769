#!/usr/bin/env node
/*
 * Drives an installed headless Chromium (through playwright-core; it never
 * downloads a browser) through example pages, step by step.
 *
 *   node example_browser.js --chromium=PATH '<json plan>'
 *
 * The plan: {"tabs": [{"name": ..., "steps": [...]}, ...], "flags": [...extra
 * Chromium flags], "stepTimeoutMs": 10000}. Each tab is a new page in one
 * Chromium with a fresh profile. Steps, run in order:
 *   {"goto": URL}                      load it
 *   {"wait": "JS expression"}          until it is truthy in the page
 *   {"fill": SELECTOR, "value": TEXT}  type into an input
 *   {"click": SELECTOR}
 *   {"eval": "JS expression", "as": KEY}      record its (JSON) value under KEY
 *   {"screenshot": SELECTOR, "path": FILE}    PNG of that element
 * stdout gets one JSON line per tab: {"tab": name, "values": {...}, "error":
 * message or null, "failedStep": index or null, "console": [...],
 * "pageErrors": [...]}, then {"done": true}. The test judges the values; a
 * failed step ends only its own tab. Exit status: 0 all tabs reported, 1 the
 * driver itself failed ({"fatal": message}), 3 bad usage.
 */
'use strict';

var fs = require('fs');
var os = require('os');
var path = require('path');

var CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
];
var LINES_KEPT = 50;

function out (line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

function loadPlaywright () {
  var root = path.resolve(__dirname, '..', '..', '..');
  return require(require.resolve('playwright-core', { paths: [root] }));
}

async function runStep (page, step, values, timeout) {
  if ('goto' in step) {
    // Not 'load': a jsonp-polling page keeps a <script> long poll open, which can
    // hold the window's load event back for as long as the poll lasts.
    await page.goto(step.goto, { waitUntil: 'domcontentloaded', timeout: timeout });
  } else if ('wait' in step) {
    await page.waitForFunction(step.wait, null, { timeout: timeout, polling: 50 });
  } else if ('fill' in step) {
    await page.fill(step.fill, step.value, { timeout: timeout });
  } else if ('click' in step) {
    await page.click(step.click, { timeout: timeout });
  } else if ('eval' in step) {
    values[step.as] = await page.evaluate(step.eval);
  } else if ('screenshot' in step) {
    await page.locator(step.screenshot).screenshot({ path: step.path, timeout: timeout });
  } else {
    throw new Error('unknown step ' + JSON.stringify(step));
  }
}

async function runTab (context, tab, timeout) {
  var page = await context.newPage();
  var report = { tab: tab.name, values: {}, error: null, failedStep: null,
                 console: [], pageErrors: [] };
  page.on('console', function (msg) {
    if (report.console.length < LINES_KEPT) report.console.push(msg.type() + ': ' + msg.text());
  });
  page.on('pageerror', function (error) { report.pageErrors.push(String(error)); });
  for (var i = 0; i < tab.steps.length; i++) {
    try {
      await runStep(page, tab.steps[i], report.values, timeout);
    } catch (err) {
      report.error = String(err && err.message || err).split('\n')[0];
      report.failedStep = i;
      try {
        report.values.bodyText = (await page.evaluate('document.body && document.body.innerText'))
          .slice(0, 2000);
      } catch (ignored) {}
      break;
    }
  }
  await page.close();
  out(report);
}

async function main () {
  var chromiumArg = process.argv[2] || '';
  var plan = process.argv[3] ? JSON.parse(process.argv[3]) : null;
  if (!chromiumArg.startsWith('--chromium=') || !plan || !plan.tabs) {
    process.stderr.write("usage: node example_browser.js --chromium=PATH '<json plan>'\n");
    process.exit(3);
  }
  var profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tornadio2-examples-chromium-'));
  process.on('exit', function () { fs.rmSync(profile, { recursive: true, force: true }); });
  var context = await loadPlaywright().chromium.launchPersistentContext(profile, {
    executablePath: chromiumArg.slice('--chromium='.length),
    headless: true,
    args: CHROMIUM_FLAGS.concat(plan.flags || []),
    viewport: { width: 1000, height: 800 },
    timeout: 30000
  });
  try {
    for (var i = 0; i < plan.tabs.length; i++) {
      await runTab(context, plan.tabs[i], plan.stepTimeoutMs || 10000);
    }
  } finally {
    await context.close();
  }
  out({ done: true });
}

main().then(function () {
  process.exit(0);
}, function (err) {
  out({ fatal: String(err && err.stack || err) });
  process.exit(1);
});
