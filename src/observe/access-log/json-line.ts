import type { FlowRecord, Notes, RawHeaders } from '../../core/flow.js';

/**
 * The JSON access-log line of a flow, built by hand: FlowRecord's fields are known, so the line is one template over
 * them (notes and timings too, field by field). String values go in unescaped and are also appended to one rope; a
 * single regex test over that rope at the end finds any that needed escaping (quote, backslash, control character,
 * surrogate), and only then is the line JSON.stringify(record), which is exact. Instructions per line under valgrind
 * (node 20, a typical forward flow): JSON.stringify(record) ~21k, this ~11k. The line parses to exactly what
 * JSON.stringify(record) gives (test/unit/observe/json-line.test.ts); top-level keys keep toRecord's order, notes
 * come in NOTE_FIELDS order.
 */
export function flowJson(r: FlowRecord): string {
  const raw: Raw = { text: '' };
  // mode, time (toISOString) and version ('1.0', '1.1', '' for L4) are Portico's own vocabulary: nothing to escape.
  let s = `{"id":${q(r.id, raw)},"mode":"${r.mode}","time":"${r.time}","client":${q(r.client, raw)}`
    + `,"method":${q(r.method, raw)},"url":${q(r.url, raw)},"version":"${r.version}","bytesIn":${num(r.bytesIn)}`
    + `,"bytesOut":${num(r.bytesOut)},"timings":${timings(r.timings)},"notes":${notes(r.notes, raw)}`;
  if (r.user !== undefined) s += `,"user":${q(r.user, raw)}`;
  if (r.status !== undefined) s += `,"status":${num(r.status)}`;
  if (r.error !== undefined) s += `,"error":{"code":"${r.error.code}","message":${q(r.error.message, raw)}}`;
  if (r.requestHeaders !== undefined) s += `,"requestHeaders":${headers(r.requestHeaders, raw)}`;
  if (r.responseHeaders !== undefined) s += `,"responseHeaders":${headers(r.responseHeaders, raw)}`;
  if (r.requestBody !== undefined) s += `,"requestBody":${q(r.requestBody, raw)}`;
  if (r.responseBody !== undefined) s += `,"responseBody":${q(r.responseBody, raw)}`;
  return NEEDS_ESCAPE.test(raw.text) ? JSON.stringify(r) : `${s}}`;
}

/**
 * Every FlowRecord field, and whether flowJson writes it: adding a field to FlowRecord fails the typecheck here until
 * the line writes it too (a hand-built serializer must not drop a field silently).
 */
export const FLOW_JSON_FIELDS = {
  id: true, mode: true, time: true, client: true, method: true, url: true, version: true, bytesIn: true, bytesOut: true,
  timings: true, notes: true, user: true, status: true, error: true, requestHeaders: true, responseHeaders: true,
  requestBody: true, responseBody: true,
} as const satisfies Record<keyof FlowRecord, true>;

// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON must escape
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/** Every string value of the line, unescaped, for the one check at the end. */
interface Raw { text: string }

/** A string value quoted as is; `raw` remembers it so flowJson can tell whether any needed escaping. */
function q(s: string, raw: Raw): string {
  raw.text += s;
  return `"${s}"`;
}

/** JSON.stringify's rule for numbers: non-finite ones are null. */
function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

function headers(h: RawHeaders, raw: Raw): string {
  let s = '[';
  for (let i = 0; i < h.length; i++) {
    const [name, value] = h[i] as [string, string];
    s += `${i === 0 ? '' : ','}[${q(name, raw)},${q(value, raw)}]`;
  }
  return `${s}]`;
}

function timings(t: FlowRecord['timings']): string {
  let s = '';
  if (t.dns !== undefined) s += `,"dns":${num(t.dns)}`;
  if (t.connect !== undefined) s += `,"connect":${num(t.connect)}`;
  if (t.tls !== undefined) s += `,"tls":${num(t.tls)}`;
  if (t.firstByte !== undefined) s += `,"firstByte":${num(t.firstByte)}`;
  if (t.total !== undefined) s += `,"total":${num(t.total)}`;
  return s === '' ? '{}' : `{${s.slice(1)}}`;
}

/**
 * Notes field by field (a generic walk over the object cost as much as JSON.stringify). NOTE_FIELDS below makes the
 * typecheck fail when Notes gains a field this does not write.
 */
function notes(n: Notes, raw: Raw): string {
  let s = '';
  if (n.policy !== undefined) s += `,"policy":${policy(n.policy, raw)}`;
  if (n.cache !== undefined) s += `,"cache":"${n.cache}"`; // closed vocabularies (cache, rateLimit, source, action, profile)
  if (n.bypassCache !== undefined) s += `,"bypassCache":${n.bypassCache}`;
  if (n.anonymized !== undefined) s += `,"anonymized":${strings(n.anonymized, raw)}`;
  if (n.route !== undefined) s += `,"route":${q(n.route, raw)}`;
  if (n.pool !== undefined) s += `,"pool":${q(n.pool, raw)}`;
  if (n.backend !== undefined) s += `,"backend":${q(n.backend, raw)}`;
  if (n.attempts !== undefined) s += `,"attempts":${num(n.attempts)}`;
  if (n.pick !== undefined) s += `,"pick":${q(n.pick, raw)}`;
  if (n.intercepted !== undefined) s += `,"intercepted":${n.intercepted}`;
  if (n.tunnel !== undefined) s += `,"tunnel":${q(n.tunnel, raw)}`;
  if (n.upstream !== undefined) s += `,"upstream":${q(n.upstream, raw)}`;
  if (n.requestId !== undefined) s += `,"requestId":${q(n.requestId, raw)}`;
  if (n.worker !== undefined) s += `,"worker":${num(n.worker)}`;
  if (n.rateLimit !== undefined) s += `,"rateLimit":"${n.rateLimit}"`;
  if (n.realIp !== undefined) s += `,"realIp":${q(n.realIp, raw)}`;
  if (n.source !== undefined) s += `,"source":"${n.source}"`;
  if (n.close !== undefined) s += `,"close":${q(n.close, raw)}`;
  if (n.sni !== undefined) s += `,"sni":${q(n.sni, raw)}`;
  return s === '' ? '{}' : `{${s.slice(1)}}`;
}

export const NOTE_FIELDS = {
  policy: true, cache: true, bypassCache: true, anonymized: true, route: true, pool: true, backend: true, attempts: true,
  pick: true, intercepted: true, tunnel: true, upstream: true, requestId: true, worker: true, rateLimit: true, realIp: true,
  source: true, close: true, sni: true,
} as const satisfies Record<keyof Notes, true>;

type Policy = NonNullable<Notes['policy']>;

function policy(p: Policy, raw: Raw): string {
  let s = `{"action":"${p.action}","rule":${q(p.rule, raw)},"explain":${q(p.explain, raw)}`;
  if (p.source !== undefined) s += `,"source":${q(p.source, raw)}`;
  if (p.category !== undefined) s += `,"category":${q(p.category, raw)}`;
  if (p.list !== undefined) s += `,"list":${q(p.list, raw)}`;
  if (p.reportOnly !== undefined) s += `,"reportOnly":${p.reportOnly}`;
  if (p.profile !== undefined) s += `,"profile":"${p.profile}"`;
  return `${s}}`;
}

export const POLICY_FIELDS = {
  action: true, rule: true, explain: true, source: true, category: true, list: true, reportOnly: true, profile: true,
} as const satisfies Record<keyof Policy, true>;

function strings(list: readonly string[], raw: Raw): string {
  let s = '[';
  for (let i = 0; i < list.length; i++) s += `${i === 0 ? '' : ','}${q(list[i] as string, raw)}`;
  return `${s}]`;
}
