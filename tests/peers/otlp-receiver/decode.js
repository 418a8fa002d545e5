#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Decode one OTLP ExportTraceServiceRequest from stdin and print it normalised (one JSON line),
// or with --tsv one line per span (see otlp.js tsvLines). --json: the input is OTLP/JSON
// instead of protobuf; --gzip: the input is gzip-compressed. Exit 1 with a message when the
// input is not a valid request.
'use strict';

const fs = require('fs');
const otlp = require('./otlp');

const args = process.argv.slice(2);
const json = args.includes('--json');
const tsv = args.includes('--tsv');
const gzip = args.includes('--gzip');

try {
  const body = otlp.unwrap(fs.readFileSync(0), gzip ? 'gzip' : undefined);
  const norm = otlp.normalise(otlp.decode(body, json));
  if (tsv) {
    for (const line of otlp.tsvLines(norm, 0)) process.stdout.write(line + '\n');
  } else {
    process.stdout.write(JSON.stringify(norm) + '\n');
  }
} catch (e) {
  process.stderr.write(`decode.js: ${e.message}\n`);
  process.exit(1);
}
