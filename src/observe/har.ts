import type { FlowRecord, RawHeaders } from '../core/flow.js';
import { missingBodyNote, requestBodyCapture } from './request-body.js';

export interface HarNameValue { name: string; value: string }
export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string; url: string; httpVersion: string; cookies: []; headers: HarNameValue[];
    queryString: HarNameValue[]; headersSize: -1; bodySize: number; postData?: { mimeType: string; text: string; comment?: string };
  };
  response: {
    status: number; statusText: string; httpVersion: string; cookies: []; headers: HarNameValue[];
    content: { size: number; mimeType: string; text?: string; comment?: string }; redirectURL: string; headersSize: -1; bodySize: number;
  };
  cache: Record<string, never>;
  timings: { blocked: -1; dns: -1; connect: -1; ssl: -1; send: number; wait: number; receive: number };
  serverIPAddress?: string;
  _portico: { id: string; mode: string; client: string; user?: string; notes: FlowRecord['notes']; error?: FlowRecord['error'] };
}
export interface Har { log: { version: '1.2'; creator: { name: string; version: string }; pages: []; entries: HarEntry[] } }

/**
 * HAR 1.2 (what browser dev tools import) from flow records. Headers appear only when they were captured
 * (`log.headers`), already redacted; bodies only as their first `log.bodies` bytes of text, with a `comment` saying
 * when a body was truncated or not captured at all (so an importer never mistakes it for an empty body).
 */
export function toHar(records: readonly FlowRecord[], version: string): Har {
  return { log: { version: '1.2', creator: { name: 'portico', version }, pages: [], entries: records.map(entry) } };
}

function entry(r: FlowRecord): HarEntry {
  const total = Math.max(0, r.timings.total ?? 0);
  const wait = Math.min(total, Math.max(0, r.timings.firstByte ?? total));
  const httpVersion = `HTTP/${r.version}`;
  const upstream = r.notes.upstream;
  const e: HarEntry = {
    startedDateTime: r.time,
    time: total,
    request: {
      method: r.method, url: r.url, httpVersion, cookies: [], headers: nameValues(r.requestHeaders),
      queryString: queryString(r.url), headersSize: -1, bodySize: r.bytesIn,
    },
    response: {
      status: r.status ?? 0, statusText: '', httpVersion, cookies: [], headers: nameValues(r.responseHeaders),
      content: { size: r.bytesOut, mimeType: header(r.responseHeaders, 'content-type') ?? '' },
      redirectURL: header(r.responseHeaders, 'location') ?? '', headersSize: -1, bodySize: r.bytesOut,
    },
    cache: {},
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait, receive: round(total - wait) },
    _portico: { id: r.id, mode: r.mode, client: r.client, notes: r.notes },
  };
  if (upstream) e.serverIPAddress = upstream.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const body = requestBodyCapture(r);
  if (body.kind !== 'none') {
    const note = missingBodyNote(body);
    const text = body.kind === 'not-captured' ? '' : body.text;
    e.request.postData = { mimeType: header(r.requestHeaders, 'content-type') ?? '', text, ...(note ? { comment: note } : {}) };
  }
  if (r.responseBody !== undefined) {
    e.response.content.text = r.responseBody; // the first log.bodies bytes only
    const captured = Buffer.byteLength(r.responseBody, 'utf8');
    if (captured < r.bytesOut) e.response.content.comment = `truncated: only the first ${captured} of ${r.bytesOut} bytes were captured`;
  }
  if (r.user !== undefined) e._portico.user = r.user;
  if (r.error) e._portico.error = r.error;
  return e;
}

function nameValues(headers: RawHeaders | undefined): HarNameValue[] {
  return headers ? headers.map(([name, value]) => ({ name, value })) : [];
}

function header(headers: RawHeaders | undefined, name: string): string | undefined {
  return headers?.find(([n]) => n === name)?.[1];
}

function queryString(url: string): HarNameValue[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
