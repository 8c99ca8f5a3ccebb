import { capturedText, type BodyCapture } from './body-capture.js';
import type { ProxyError, ProxyErrorCode } from './errors.js';
import type { FlowAbort } from './flow-abort.js';
import { isoTime } from './iso-time.js';
import { captureHeaders, NO_CAPTURE, redactUrl, type RecordOptions } from './record-headers.js';

export type Mode = 'forward' | 'reverse' | 'l4';
/** Header fields in wire order with their original case (as mockttp keeps them). */
export type RawHeaders = Array<[name: string, value: string]>;
/** A streamed body; never buffered by default. Node Readables satisfy it and are piped directly. */
export type Body = AsyncIterable<Uint8Array>;

export interface RequestHead {
  method: string;
  /** Absolute URL of the target (origin-form requests are completed from Host / the CONNECT target). */
  url: URL;
  version: '1.0' | '1.1';
  headers: RawHeaders;
}

export interface ResponseHead {
  status: number;
  reason?: string;
  headers: RawHeaders;
}

/**
 * Milliseconds. start, firstByte and end are monotonic timestamps (the record makes them relative to start);
 * dns, connect and tls are durations of the upstream connection's phases, set only on the flow that opened it.
 */
export interface Timings {
  start: number;
  dns?: number;
  connect?: number;
  tls?: number;
  firstByte?: number;
  end?: number;
}

/** Typed annotations stages leave on a flow (not a free-form bag). */
export interface Notes {
  /** The policy decision (issue 3): the action, the rule id (`default` when none matched) and where it came from. */
  policy?: {
    action: 'allow' | 'block' | 'kill' | 'bypass-cache' | 'no-mitm' | 'anonymize';
    rule: string;
    explain: string;
    /** rules file:line of the rule. */
    source?: string;
    category?: string;
    /** list file:line of the entry that put the host in the category. */
    list?: string;
    /** The block was logged, not enforced. */
    reportOnly?: boolean;
    profile?: 'strict' | 'standard' | 'off';
  };
  cache?: 'hit' | 'miss' | 'stale' | 'revalidated' | 'bypass' | 'uncacheable';
  /** Set by an earlier stage (policy's `bypass-cache` action): the cache neither answers nor stores this flow. */
  bypassCache?: boolean;
  anonymized?: string[];
  route?: string;
  pool?: string;
  backend?: string;
  attempts?: number;
  /** The balancer's reason for the backend it picked (`p2c: b1 active=3 < b3 active=7`), and why earlier attempts failed. */
  pick?: string;
  /** True when the request arrived inside an intercepted (TLS-terminated) CONNECT tunnel. */
  intercepted?: boolean;
  /** The id of the CONNECT tunnel the request arrived in; its client was authorised at the CONNECT. */
  tunnel?: string;
  /** The upstream that was contacted, as host:port. */
  upstream?: string;
  /** The id followed through a chain of hops (X-Request-Id): kept from the request, or this hop's flow id when it set it. */
  requestId?: string;
  /** With `--workers N`: the pid of the worker process that handled the flow (set by the cluster primary). */
  worker?: number;
  /**
   * Reverse proxy per-route rate limit: which bucket allowed the request (local, redis, or none while Redis is down:
   * fail-open), or `limited` when it got 429 (fail-closed: refused because Redis was down).
   */
  rateLimit?: 'local' | 'redis' | 'fail-open' | 'fail-closed' | 'limited';
  /**
   * Reverse proxy: the client address resolved through trusted proxies' X-Forwarded-For (the rightmost untrusted hop,
   * nginx's real_ip_recursive), set only when the peer is a trusted proxy and names someone else; rate limits key on it.
   */
  realIp?: string;
  /** How the pipeline answered: from upstream, a stage's local reply, or a kill. */
  source?: 'upstream' | 'local' | 'kill';
  /** L4: why the connection or UDP session ended (`client closed`, `backend closed`, `idle timeout`, `shutdown`, …). */
  close?: string;
  /** L4: the TLS server name (ClientHello SNI) the connection was routed by, when it had one. */
  sni?: string;
}

export interface ClientInfo { readonly ip: string; readonly port: number; user?: string }

export interface Flow {
  readonly id: string;
  readonly mode: Mode;
  /** Aborts when the client goes away or a deadline passes. */
  readonly signal: AbortSignal;
  /**
   * The same abort without an AbortController, when the front door made the flow: listen through onFlowAbort and
   * test with flowAborted (core/flow-abort.ts), which use it when present and the signal otherwise.
   */
  readonly abort?: FlowAbort;
  readonly client: ClientInfo;
  /** Wall-clock start (ms since epoch). */
  readonly startedAt: number;
  request: RequestHead;
  requestBody: Body | null;
  response?: ResponseHead;
  /** A stream from upstream, or a complete local body (error pages, cache hits) whose length is known. */
  responseBody?: Body | Uint8Array | null;
  error?: ProxyError;
  readonly notes: Notes;
  readonly timings: Timings;
  /** Byte counters maintained by the front door (body bytes, not headers). */
  bytesIn: number;
  bytesOut: number;
  /** Set by the pipeline only when `log.bodies` > 0: the front door feeds it the first bytes of each body. */
  capture?: BodyCapture;
}

/** The plain JSON snapshot of a finished flow: what logs, admin, SSE and the TUI see. */
export interface FlowRecord {
  id: string;
  mode: Mode;
  time: string;
  client: string;
  user?: string;
  method: string;
  url: string;
  version: string;
  status?: number;
  bytesIn: number;
  bytesOut: number;
  timings: { dns?: number; connect?: number; tls?: number; firstByte?: number; total?: number };
  notes: Notes;
  error?: { code: ProxyErrorCode; message: string };
  /** Only with `log.headers: true`: lower-cased names, secrets "[REDACTED]" (core/record-headers.ts). */
  requestHeaders?: RawHeaders;
  responseHeaders?: RawHeaders;
  /** Only with `log.bodies: N`: the first N bytes of text bodies (uncompressed text types), as UTF-8. */
  requestBody?: string;
  responseBody?: string;
}

function round(ms: number | undefined, start: number): number | undefined {
  return ms === undefined ? undefined : Math.round((ms - start) * 100) / 100;
}

export function toRecord(flow: Flow, opts: RecordOptions = NO_CAPTURE): FlowRecord {
  const t = flow.timings;
  const record: FlowRecord = {
    id: flow.id,
    mode: flow.mode,
    time: isoTime(flow.startedAt), // toISOString's text at a seventh of its cost (iso-time.ts)
    client: `${flow.client.ip}:${flow.client.port}`,
    method: flow.request.method,
    url: redactUrl(flow.request.url),
    version: flow.request.version,
    bytesIn: flow.bytesIn,
    bytesOut: flow.bytesOut,
    timings: {
      dns: t.dns, connect: t.connect, tls: t.tls,
      firstByte: round(t.firstByte, t.start), total: round(t.end, t.start),
    },
    notes: flow.notes,
  };
  if (flow.client.user !== undefined) record.user = flow.client.user;
  if (flow.response) record.status = flow.response.status;
  if (flow.error) record.error = { code: flow.error.code, message: flow.error.message };
  if (opts.headers) {
    record.requestHeaders = captureHeaders(flow.request.headers, opts.redact);
    if (flow.response) record.responseHeaders = captureHeaders(flow.response.headers, opts.redact);
  }
  if (flow.capture) {
    const req = capturedText(flow.capture.request, flow.request.headers);
    const res = capturedText(flow.capture.response, flow.response?.headers);
    if (req !== undefined) record.requestBody = req;
    if (res !== undefined) record.responseBody = res;
  }
  return record;
}
