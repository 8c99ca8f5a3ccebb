import type { RawHeaders } from './flow.js';

/**
 * Small helpers over RawHeaders; names compare case-insensitively, order is kept. A name is lowercased only when its
 * length fits (field names are ASCII tokens, whose lowercase has the same length): toLowerCase of a mixed-case name
 * allocates a string, and every stage on every request looks up several names.
 */
export function getHeader(headers: RawHeaders, name: string): string | undefined {
  const lower = name.toLowerCase();
  const n = lower.length;
  for (const [k, v] of headers) if (k.length === n && k.toLowerCase() === lower) return v;
  return undefined;
}

export function getHeaderAll(headers: RawHeaders, name: string): string[] {
  const lower = name.toLowerCase();
  const n = lower.length;
  const out: string[] = [];
  for (const [k, v] of headers) if (k.length === n && k.toLowerCase() === lower) out.push(v);
  return out;
}

export function hasHeader(headers: RawHeaders, name: string): boolean {
  return getHeader(headers, name) !== undefined;
}

export function removeHeader(headers: RawHeaders, name: string): RawHeaders {
  const lower = name.toLowerCase();
  const n = lower.length;
  return headers.filter(([k]) => k.length !== n || k.toLowerCase() !== lower);
}

export function setHeader(headers: RawHeaders, name: string, value: string): RawHeaders {
  const out = removeHeader(headers, name);
  out.push([name, value]);
  return out;
}

/** Node's rawHeaders array ([k, v, k, v, ...]) to RawHeaders. */
export function fromNodeRaw(raw: readonly string[]): RawHeaders {
  const out: RawHeaders = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string]);
  return out;
}

/** RawHeaders to the flat array node:http's writeHead accepts, keeping order and case. */
export function toNodeRaw(headers: RawHeaders): string[] {
  const out = new Array<string>(headers.length * 2); // sized once: push() grew it several times per response
  for (let i = 0; i < headers.length; i++) {
    const [k, v] = headers[i] as [string, string];
    out[2 * i] = k;
    out[2 * i + 1] = v;
  }
  return out;
}

/** Comma-separated list tokens of all field lines with this name, lowercased and trimmed. */
export function headerTokens(headers: RawHeaders, name: string): string[] {
  const out: string[] = [];
  for (const v of getHeaderAll(headers, name)) {
    for (const part of v.split(',')) {
      const t = part.trim().toLowerCase();
      if (t) out.push(t);
    }
  }
  return out;
}
