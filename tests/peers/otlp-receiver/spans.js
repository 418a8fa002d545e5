#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Print the spans of a receiver output file (receiver.js --out) as tab-separated lines, one per
// span, for tests written in C (see otlp.js tsvLines for the columns).
'use strict';

const fs = require('fs');
const otlp = require('./otlp');

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: spans.js RECEIVER_OUTPUT.jsonl\n');
  process.exit(2);
}
const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
for (const line of text.split('\n')) {
  if (!line) continue;
  const req = JSON.parse(line);
  for (const l of otlp.tsvLines(req, req.seq)) process.stdout.write(l + '\n');
}
