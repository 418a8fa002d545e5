// SPDX-License-Identifier: MIT
// Decoding and normalising OTLP trace requests with the OpenTelemetry project's own generated
// protobuf code (@opentelemetry/otlp-transformer 0.215.0, pinned: later releases dropped it), so
// that ztrace's hand-written encoder is checked against an independent implementation.
'use strict';

const zlib = require('zlib');
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root');

const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
const ID_FIELDS = { traceId: 16, spanId: 8, parentSpanId: 8 };

class OtlpError extends Error {}

// OTLP/JSON carries ids as hex strings, where protobuf's JSON mapping would use base64:
// turn them into bytes before protobufjs sees them, refusing anything that is not hex.
function hexIdsToBytes(obj, path) {
  if (Array.isArray(obj)) {
    obj.forEach((v, i) => hexIdsToBytes(v, `${path}[${i}]`));
    return;
  }
  if (!obj || typeof obj !== 'object') return;
  for (const [k, v] of Object.entries(obj)) {
    if (k in ID_FIELDS && typeof v === 'string') {
      const want = ID_FIELDS[k];
      if (v !== '' && !new RegExp(`^[0-9a-fA-F]{${2 * want}}$`).test(v))
        throw new OtlpError(`${path}.${k}: "${v}" is not ${want} bytes of hex`);
      obj[k] = Buffer.from(v, 'hex');
    } else {
      hexIdsToBytes(v, `${path}.${k}`);
    }
  }
}

// Body bytes (after Content-Encoding) to a protobufjs message; throws OtlpError when the body
// is not a valid request.
function decode(body, json) {
  let msg;
  try {
    if (json) {
      const obj = JSON.parse(body.toString('utf8'));
      hexIdsToBytes(obj, '$');
      msg = Request.fromObject(obj);
    } else {
      msg = Request.decode(body);
    }
  } catch (e) {
    if (e instanceof OtlpError) throw e;
    throw new OtlpError(`cannot decode ${json ? 'JSON' : 'protobuf'} request: ${e.message}`);
  }
  const bad = Request.verify(msg);
  if (bad) throw new OtlpError(`invalid request: ${bad}`);
  return msg;
}

// An AnyValue message to a JSON value. The oneof member that was set (protobufjs exposes it
// as the virtual property "value") decides the type, so an int 0 stays 0 and "" stays "".
function anyValue(m) {
  if (!m || !m.value) return null;
  const v = m[m.value];
  switch (m.value) {
    case 'intValue': {
      const n = Number(v.toString());
      return Number.isSafeInteger(n) ? n : v.toString();
    }
    case 'arrayValue': return (v.values || []).map(anyValue);
    case 'kvlistValue': return attrMap(v.values);
    case 'bytesValue': return Buffer.from(v).toString('hex');
    default: return v;
  }
}

// A KeyValue list to a plain object.
function attrMap(list) {
  const out = {};
  for (const kv of list || []) out[kv.key] = anyValue(kv.value);
  return out;
}

// A decoded request in the shape ztrace's tests compare: hex ids, attributes as maps, times as
// decimal strings, enums as numbers.
function normalise(msg) {
  const u8 = (b) => Buffer.from(b || []).toString('hex');
  const num = (v) => (v === null || v === undefined ? '0' : v.toString());
  return {
    resource_spans: msg.resourceSpans.map((rs) => ({
      resource: attrMap(rs.resource ? rs.resource.attributes : []),
      resource_dropped_attributes: rs.resource ? rs.resource.droppedAttributesCount || 0 : 0,
      scope_spans: rs.scopeSpans.map((ss) => ({
        scope: { name: ss.scope ? ss.scope.name || '' : '', version: ss.scope ? ss.scope.version || '' : '' },
        spans: ss.spans.map((s) => ({
          trace_id: u8(s.traceId),
          span_id: u8(s.spanId),
          parent_span_id: u8(s.parentSpanId),
          name: s.name || '',
          kind: s.kind || 0,
          start_time_unix_nano: num(s.startTimeUnixNano),
          end_time_unix_nano: num(s.endTimeUnixNano),
          attributes: attrMap(s.attributes),
          status: { code: s.status ? s.status.code || 0 : 0, message: s.status ? s.status.message || '' : '' },
        })),
      })),
    })),
  };
}

// Body as received, Content-Encoding undone.
function unwrap(body, encoding) {
  if (!encoding || encoding === 'identity') return body;
  if (encoding === 'gzip') {
    try {
      return zlib.gunzipSync(body);
    } catch (e) {
      throw new OtlpError(`bad gzip body: ${e.message}`);
    }
  }
  throw new OtlpError(`unsupported Content-Encoding ${encoding}`);
}

function clean(s) {
  return String(s).replace(/[\t\n;=]/g, ' ');
}

function kvString(map) {
  return Object.keys(map).sort().map((k) => `${clean(k)}=${clean(map[k])}`).join(';');
}

// One tab-separated line per span: seq, service.name, process.pid, trace_id, span_id,
// parent_span_id, name, kind, status code, status message, start, end, span attributes
// (k=v;... sorted), resource attributes (same).
function tsvLines(norm, seq) {
  const out = [];
  for (const rs of norm.resource_spans) {
    for (const ss of rs.scope_spans) {
      for (const s of ss.spans) {
        out.push([seq, rs.resource['service.name'], rs.resource['process.pid'], s.trace_id,
          s.span_id, s.parent_span_id || '-', s.name, s.kind, s.status.code,
          clean(s.status.message) || '-', s.start_time_unix_nano, s.end_time_unix_nano,
          kvString(s.attributes), kvString(rs.resource)].map((v) => (v === undefined || v === '' ? '-' : v)).join('\t'));
      }
    }
  }
  return out;
}

module.exports = { Request, OtlpError, decode, normalise, unwrap, tsvLines };
