// The `ws` package as a client of one tornadio2 session: echo, ping/pong, close.
// Usage: node ws_client.js PORT SID ; prints one JSON line with what it saw.
'use strict';
const WebSocket = require('ws');

const [port, sid] = process.argv.slice(2);
const seen = { messages: [], pong: null, close: null };
const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/1/websocket/${sid}`);
const big = '3:::' + 'w'.repeat(70000);
const timer = setTimeout(() => { seen.error = 'timeout'; finish(); }, 8000);

function finish() {
  clearTimeout(timer);
  process.stdout.write(JSON.stringify(seen) + '\n');
  process.exit(0);
}

ws.on('message', (data, isBinary) => {
  const text = data.toString();
  seen.messages.push(text.length > 40 ? text.slice(0, 8) + '..' + text.length : text);
  if (text === '1::') ws.send('3:::hello from ws');
  else if (text === '3:::hello from ws') ws.send(big);
  else if (text === big) ws.ping(Buffer.from('ping-payload'));
});
ws.on('pong', (data) => { seen.pong = data.toString(); ws.close(1000, 'bye'); });
ws.on('close', (code) => { seen.close = code; finish(); });
ws.on('error', (err) => { seen.error = String(err); finish(); });
