import type { Entry, TuiRecord } from './entry.js';
import { headerList } from './curl.js';

/** HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), the subset browser dev tools open. */
export interface Har {
  log: { version: '1.2'; creator: { name: string; version: string }; entries: HarEntry[] };
}
interface NameValue { name: string; value: string }
interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string; url: string; httpVersion: string; cookies: []; headers: NameValue[]; queryString: NameValue[];
    headersSize: -1; bodySize: number;
  };
  response: {
    status: number; statusText: string; httpVersion: string; cookies: []; headers: NameValue[];
    content: { size: number; mimeType: string }; redirectURL: string; headersSize: -1; bodySize: number;
  };
  cache: Record<string, never>;
  timings: { send: number; wait: number; receive: number; dns: -1; connect: -1; ssl: -1 };
  _portico: { id: string; client: string; notes: TuiRecord['notes']; error?: TuiRecord['error'] };
}

const pairs = (h: Parameters<typeof headerList>[0]): NameValue[] => headerList(h).map(([name, value]) => ({ name, value }));

function query(url: string): NameValue[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

function harEntry(f: TuiRecord): HarEntry {
  const total = Math.max(0, f.timings.total ?? 0);
  const wait = Math.min(total, Math.max(0, f.timings.firstByte ?? total));
  const resHeaders = pairs(f.headers?.response);
  const type = resHeaders.find((h) => h.name.toLowerCase() === 'content-type')?.value ?? '';
  const location = resHeaders.find((h) => h.name.toLowerCase() === 'location')?.value ?? '';
  const httpVersion = `HTTP/${f.version}`;
  const entry: HarEntry = {
    startedDateTime: f.time,
    time: total,
    request: {
      method: f.method, url: f.url, httpVersion, cookies: [], headers: pairs(f.headers?.request),
      queryString: query(f.url), headersSize: -1, bodySize: f.bytesIn,
    },
    response: {
      status: f.status ?? 0, statusText: '', httpVersion, cookies: [], headers: resHeaders,
      content: { size: f.bytesOut, mimeType: type }, redirectURL: location, headersSize: -1, bodySize: f.bytesOut,
    },
    cache: {},
    timings: { send: 0, wait, receive: total - wait, dns: -1, connect: -1, ssl: -1 },
    _portico: { id: f.id, client: f.client, notes: f.notes },
  };
  if (f.error) entry._portico.error = f.error;
  return entry;
}

/** HTTP flows as HAR (tunnels carry no HTTP request and are left out). */
export function buildHar(entries: readonly Entry[], version: string): Har {
  return {
    log: {
      version: '1.2', creator: { name: 'portico', version },
      entries: entries.filter((e) => e.kind === 'flow').map((e) => harEntry(e.flow)),
    },
  };
}
