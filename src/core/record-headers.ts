import type { RawHeaders } from './flow.js';

/** The header names whose values never leave the process (configurable through `log.redactHeaders`). */
export const DEFAULT_REDACTED_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'];
export const REDACTED = '[REDACTED]';

/** What a FlowRecord captures beyond the always-present fields; off by default (disabled means free). */
export interface RecordOptions {
  /** Copy request and response headers into the record (`log.headers`). */
  readonly headers: boolean;
  /** Lower-case names replaced by "[REDACTED]". */
  readonly redact: ReadonlySet<string>;
  /** First bytes of each text body to keep (`log.bodies`); 0 = none. */
  readonly bodies?: number;
}

export const NO_CAPTURE: RecordOptions = { headers: false, redact: new Set(DEFAULT_REDACTED_HEADERS), bodies: 0 };

/**
 * An allow-list copy of wire headers: names lower-cased, secrets replaced. pino's path redaction cannot reach
 * RawHeaders tuples (and is case-sensitive), so values are scrubbed here, before the record exists at all: the ring,
 * SSE, HAR and every access-log format then only ever see the scrubbed copy.
 */
export function captureHeaders(raw: RawHeaders, redact: ReadonlySet<string>): RawHeaders {
  const out: RawHeaders = new Array<[string, string]>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const [name, value] = raw[i] as [string, string];
    const lower = name.toLowerCase();
    out[i] = [lower, redact.has(lower) ? REDACTED : value];
  }
  return out;
}

/** Compiled once from the `log` config section. */
export function recordOptions(log: { headers: boolean; redactHeaders: readonly string[]; bodies?: number }): RecordOptions {
  return { headers: log.headers, redact: new Set(log.redactHeaders.map((h) => h.toLowerCase())), bodies: log.bodies ?? 0 };
}

/** A URL's href with its userinfo password replaced (http://user:[REDACTED]@host/). */
export function redactUrl(url: URL): string {
  if (url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.password = REDACTED;
  return copy.href;
}
