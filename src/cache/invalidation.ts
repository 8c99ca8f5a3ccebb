import type { RawHeaders } from '../core/flow.js';
import { getHeader } from '../core/headers.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export function isUnsafe(method: string): boolean {
  return !SAFE.has(method);
}

/**
 * RFC 9111 §4.4: a non-error response (2xx/3xx) to an unsafe method invalidates the target URI and the URIs in
 * Location and Content-Location, but only those on the same origin (to stop a cross-origin denial of service).
 */
export function invalidationTargets(method: string, url: URL, status: number, headers: RawHeaders): URL[] {
  if (!isUnsafe(method) || status < 200 || status >= 400) return [];
  const out: URL[] = [url];
  for (const name of ['location', 'content-location']) {
    const value = getHeader(headers, name);
    if (value === undefined) continue;
    try {
      const target = new URL(value, url);
      if (target.origin === url.origin) out.push(target);
    } catch {
      // An unparseable reference invalidates nothing.
    }
  }
  return out;
}
