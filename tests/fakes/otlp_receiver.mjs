// An independent OTLP/HTTP trace receiver for the tracer's tests: a
// loopback HTTP server that decodes POST /v1/traces bodies with the
// official OpenTelemetry JS protobuf definitions (the protobufjs root that
// @opentelemetry/otlp-transformer ships), or as strict OTLP/JSON checked
// against the same definitions, and appends what it decoded as JSON lines
// to the --out file before it answers.
//   node otlp_receiver.mjs --out FILE [--status CODE]
// Prints {"port": N} on stdout once listening. Lines written:
//   {"kind":"request","contentType","headers":{...},"spans":N}
//   {"kind":"span","resource":{...},"scope":{...},"traceId",...}
//   {"kind":"error","message":...}  (then answers 400)
import { createServer } from 'node:http';
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = require(
    './js/node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js');
const pb = root.opentelemetry.proto;
const ExportRequest = pb.collector.trace.v1.ExportTraceServiceRequest;
const ExportResponse = pb.collector.trace.v1.ExportTraceServiceResponse;

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const outFile = opt('--out', null);
const answerStatus = Number(opt('--status', '200'));
if (!outFile) {
  console.error('usage: otlp_receiver.mjs --out FILE [--status CODE]');
  process.exit(2);
}

const emit = (obj) => appendFileSync(outFile, JSON.stringify(obj) + '\n');
const hex = (b) => Buffer.from(b || []).toString('hex');

// ---- strict OTLP/JSON -----------------------------------------------------
// Field names come from the generated message classes (every field is a
// prototype data property; a oneof is a getter, and methods are
// functions), so a misspelt or unknown key is an error.
const fieldsOf = (Msg) => new Set(Object.getOwnPropertyNames(Msg.prototype)
    .filter((k) => {
      const d = Object.getOwnPropertyDescriptor(Msg.prototype, k);
      return !d.get && typeof d.value !== 'function';
    }));
const common = pb.common.v1;
const trace = pb.trace.v1;
const SCHEMA = {
  ExportTraceServiceRequest: [ExportRequest, { resourceSpans: 'ResourceSpans' }],
  ResourceSpans: [trace.ResourceSpans, { resource: 'Resource', scopeSpans: 'ScopeSpans' }],
  Resource: [pb.resource.v1.Resource, { attributes: 'KeyValue' }],
  ScopeSpans: [trace.ScopeSpans, { scope: 'InstrumentationScope', spans: 'Span' }],
  InstrumentationScope: [common.InstrumentationScope, { attributes: 'KeyValue' }],
  Span: [trace.Span, { attributes: 'KeyValue', status: 'Status' }],
  Status: [trace.Status, {}],
  KeyValue: [common.KeyValue, { value: 'AnyValue' }],
  AnyValue: [common.AnyValue, { arrayValue: 'ArrayValue' }],
  ArrayValue: [common.ArrayValue, { values: 'AnyValue' }],
};
const HEX_FIELDS = { traceId: 32, spanId: 16, parentSpanId: 16 };
const INT64_STRING_FIELDS = new Set(['startTimeUnixNano', 'endTimeUnixNano', 'intValue']);
const ENUM_FIELDS = new Set(['kind', 'code']);

// Checks one JSON value of message type `type` and returns the equivalent
// plain object protobufjs' fromObject accepts (ids as bytes).
function strict(type, value, path) {
  const [Msg, nested] = SCHEMA[type];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${path}: expected an object (${type})`);
  }
  const allowed = fieldsOf(Msg);
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    const p = `${path}.${k}`;
    if (!allowed.has(k)) throw new Error(`${p}: not a field of ${type}`);
    if (nested[k]) {
      out[k] = Array.isArray(v) ? v.map((x, i) => strict(nested[k], x, `${p}[${i}]`))
                                : strict(nested[k], v, p);
    } else if (k in HEX_FIELDS && type === 'Span') {
      const re = new RegExp(`^[0-9a-f]{${HEX_FIELDS[k]}}$`);
      if (typeof v !== 'string' || !re.test(v)) {
        throw new Error(`${p}: expected ${HEX_FIELDS[k]} lowercase hex digits, got ${JSON.stringify(v)}`);
      }
      out[k] = Buffer.from(v, 'hex');
    } else if (INT64_STRING_FIELDS.has(k)) {
      if (typeof v !== 'string' || !/^-?[0-9]+$/.test(v)) {
        throw new Error(`${p}: a 64-bit integer must be a decimal string, got ${JSON.stringify(v)}`);
      }
      out[k] = v;
    } else if (ENUM_FIELDS.has(k)) {
      if (!Number.isInteger(v)) throw new Error(`${p}: an enum must be an integer`);
      out[k] = v;
    } else {
      out[k] = v;
    }
  }
  return out;
}

function decodeJson(body) {
  const obj = strict('ExportTraceServiceRequest', JSON.parse(body.toString('utf8')), '$');
  const msg = ExportRequest.fromObject(obj);
  // Through the wire format and back, so both paths normalize alike.
  return ExportRequest.decode(ExportRequest.encode(msg).finish());
}

// ---- normalization -------------------------------------------------------

function anyValue(v) {
  if (!v) return null;
  if (v.value === 'stringValue') return { string: v.stringValue };
  if (v.value === 'boolValue') return { bool: v.boolValue };
  if (v.value === 'intValue') return { int: String(v.intValue) };
  if (v.value === 'doubleValue') return { double: v.doubleValue };
  if (v.value === 'arrayValue') return { array: (v.arrayValue.values || []).map(anyValue) };
  if (v.value === 'bytesValue') return { bytes: hex(v.bytesValue) };
  return { unknown: v.value || null };
}

function attrs(list) {
  const out = {};
  for (const kv of list || []) {
    if (kv.key in out) throw new Error(`duplicate attribute ${kv.key}`);
    out[kv.key] = anyValue(kv.value);
  }
  return out;
}

const plain = (a) => Object.fromEntries(Object.entries(attrs(a)).map(([k, v]) => [k, v.string]));

function spansOf(req) {
  const out = [];
  for (const rs of req.resourceSpans || []) {
    const resource = plain(rs.resource && rs.resource.attributes);
    for (const ss of rs.scopeSpans || []) {
      const scope = { name: ss.scope ? ss.scope.name : '', version: ss.scope ? ss.scope.version : '' };
      for (const s of ss.spans || []) {
        out.push({
          kind: 'span',
          resource,
          scope,
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          flags: s.flags || 0,
          name: s.name,
          spanKind: s.kind,
          startTimeUnixNano: String(s.startTimeUnixNano),
          endTimeUnixNano: String(s.endTimeUnixNano),
          attributes: attrs(s.attributes),
          droppedAttributesCount: s.droppedAttributesCount || 0,
          status: { code: s.status ? s.status.code || 0 : 0, message: s.status ? s.status.message || '' : '' },
        });
      }
    }
  }
  return out;
}

// ---- server ----------------------------------------------------------------

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const ctype = (req.headers['content-type'] || '').split(';')[0].trim();
    let spans;
    try {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        throw new Error(`unexpected ${req.method} ${req.url}`);
      }
      if (ctype === 'application/x-protobuf') {
        spans = spansOf(ExportRequest.decode(body));
      } else if (ctype === 'application/json') {
        spans = spansOf(decodeJson(body));
      } else {
        throw new Error(`unexpected content-type ${ctype}`);
      }
    } catch (e) {
      emit({ kind: 'error', message: String(e && e.message || e) });
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(String(e));
      return;
    }
    emit({ kind: 'request', contentType: ctype, headers: req.headers, spans: spans.length });
    for (const s of spans) emit(s);
    if (answerStatus !== 200) {
      res.writeHead(answerStatus, { 'content-type': 'text/plain' });
      res.end('unavailable');
    } else if (ctype === 'application/json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    } else {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(Buffer.from(ExportResponse.encode(ExportResponse.create({})).finish()));
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
