import type { HashSource } from '../balance/spec.js';
import type { Flow, RawHeaders } from '../core/flow.js';

/** The value of one cookie in the request's Cookie fields, or undefined. */
export function cookieValue(headers: RawHeaders, name: string): string | undefined {
  for (const [field, value] of headers) {
    if (field.length !== 6 || field.toLowerCase() !== 'cookie') continue;
    for (const part of value.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}

export function headerValue(headers: RawHeaders, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [field, value] of headers) if (field.toLowerCase() === lower) return value;
  return undefined;
}

/** The consistent-hash key of a flow; undefined (→ the picker falls back to random) when the source is absent. */
export function hashKeyOf(flow: Flow, source: HashSource | undefined): string | undefined {
  if (source === undefined) return undefined;
  switch (source.kind) {
    // Behind a trusted proxy the client it names (reverse/client-headers.ts), so one hop does not pin every user to one backend.
    case 'ip': return flow.notes.realIp ?? flow.client.ip;
    case 'path': return flow.request.url.pathname;
    case 'header': return headerValue(flow.request.headers, source.name);
    case 'cookie': return cookieValue(flow.request.headers, source.name);
  }
}
