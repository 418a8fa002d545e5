#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// An independent OTLP/HTTP trace receiver for ztrace's tests. Listens on 127.0.0.1 only.
//
//   receiver.js [PORT] --out FILE [--port-file FILE] [--fail-first K] [--fail-status CODE]
//               [--retry-after SECONDS] [--hang]
//
// POST /v1/traces with Content-Type application/x-protobuf or application/json, optionally
// Content-Encoding gzip, is decoded with the OpenTelemetry project's generated code and appended
// to FILE as one JSON line: the normalised request (otlp.js) plus seq (1, 2, ...), content_type,
// content_encoding. PORT 0 (the default) picks a free port; --port-file gets the bound port.
// --fail-first K answers the first K requests with --fail-status (default 503) without
// recording them, with Retry-After when given. --hang accepts requests and never answers.
// Bad requests get 400 and a line on stderr. SIGTERM/SIGINT exit 0.
'use strict';

const fs = require('fs');
const http = require('http');
const otlp = require('./otlp');

function usage(msg) {
  process.stderr.write(`receiver.js: ${msg}\n`);
  process.exit(2);
}

const opt = { port: 0, out: null, portFile: null, failFirst: 0, failStatus: 503, retryAfter: null, hang: false };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => {
    if (i + 1 >= argv.length) usage(`${a} needs a value`);
    return argv[++i];
  };
  if (a === '--out') opt.out = val();
  else if (a === '--port-file') opt.portFile = val();
  else if (a === '--fail-first') opt.failFirst = parseInt(val(), 10);
  else if (a === '--fail-status') opt.failStatus = parseInt(val(), 10);
  else if (a === '--retry-after') opt.retryAfter = val();
  else if (a === '--hang') opt.hang = true;
  else if (/^\d+$/.test(a)) opt.port = parseInt(a, 10);
  else usage(`unknown argument ${a}`);
}
if (!opt.out) usage('--out FILE is required');

let received = 0; // requests that reached the handler
let seq = 0; // requests recorded

function reply(res, status, type, body, extra) {
  res.writeHead(status, Object.assign({ 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) }, extra || {}));
  res.end(body);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    received++;
    if (opt.hang) return; // never answer: the client's timeout must end the request
    if (req.method !== 'POST' || req.url.split('?')[0] !== '/v1/traces')
      return reply(res, 404, 'text/plain', `no ${req.method} ${req.url} here\n`);
    if (received <= opt.failFirst) {
      const extra = opt.retryAfter !== null ? { 'Retry-After': opt.retryAfter } : {};
      return reply(res, opt.failStatus, 'text/plain', 'failing on purpose\n', extra);
    }
    const type = (req.headers['content-type'] || '').split(';')[0].trim();
    let json;
    if (type === 'application/x-protobuf') json = false;
    else if (type === 'application/json') json = true;
    else return reply(res, 415, 'text/plain', `unsupported Content-Type ${type}\n`);
    const encoding = req.headers['content-encoding'] || '';
    let norm;
    try {
      norm = otlp.normalise(otlp.decode(otlp.unwrap(Buffer.concat(chunks), encoding), json));
    } catch (e) {
      process.stderr.write(`receiver.js: rejected request: ${e.message}\n`);
      return reply(res, 400, 'text/plain', `${e.message}\n`);
    }
    seq++;
    const line = Object.assign({ seq, content_type: type, content_encoding: encoding }, norm);
    fs.appendFileSync(opt.out, JSON.stringify(line) + '\n');
    // an empty ExportTraceServiceResponse: full success
    if (json) reply(res, 200, 'application/json', '{}');
    else reply(res, 200, 'application/x-protobuf', '');
  });
});

server.listen(opt.port, '127.0.0.1', () => {
  const port = server.address().port;
  if (opt.portFile) {
    // written whole, then renamed, so a test polling for it never reads half a number
    fs.writeFileSync(`${opt.portFile}.tmp`, `${port}\n`);
    fs.renameSync(`${opt.portFile}.tmp`, opt.portFile);
  }
});
server.on('error', (e) => {
  process.stderr.write(`receiver.js: ${e.message}\n`);
  process.exit(1);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
