import { errorResponse } from '../core/error-page.js';
import { ProxyError } from '../core/errors.js';
import type { RawHeaders } from '../core/flow.js';
import { CONTINUE, type Stage } from '../core/stage.js';

export interface ForwardedConfig {
  via: { enabled: boolean; pseudonym: string };
}

/**
 * Fields that describe one connection, not the message (RFC 9110 §7.6.1), plus the proxy's own credentials
 * exchange. TE is dropped whole (we do not forward trailers), Transfer-Encoding because the front door and undici
 * re-frame bodies, Upgrade because upgrades are handled by the front door, never by this stage.
 */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'trailer',
  'proxy-authorization', 'proxy-authenticate',
]);

/** By name length: whether a fixed hop-by-hop name has that length (a name of another length is kept unread). */
const HOP_BY_HOP_LENGTH: boolean[] = [];
for (const name of HOP_BY_HOP) HOP_BY_HOP_LENGTH[name.length] = true;

/**
 * The names one Connection field lists that are not fixed hop-by-hop names already, lowercased, added to `into`.
 * `Connection: keep-alive` (nearly every response, and many requests) adds nothing, so the strip stays on its fast path.
 */
function connectionListed(value: string, into: string[] | undefined): string[] | undefined {
  if (value.length === 10 && value.toLowerCase() === 'keep-alive') return into;
  for (const part of value.includes(',') ? value.split(',') : [value]) {
    const token = part.trim().toLowerCase();
    if (token !== '' && !HOP_BY_HOP.has(token)) (into ??= []).push(token);
  }
  return into;
}

/**
 * Pure: a copy without hop-by-hop fields, including every field the Connection header names. One pass to find the
 * Connection fields and one to copy; a name is lowercased only when its length is that of a name to remove (this runs
 * twice per exchange, so the usual `Connection: keep-alive` builds no set and no token list).
 */
export function stripHopByHop(headers: RawHeaders): RawHeaders {
  let listed: string[] | undefined;
  for (const [name, value] of headers) {
    if (name.length === 10 && name.toLowerCase() === 'connection') listed = connectionListed(value, listed);
  }
  const out: RawHeaders = [];
  for (const field of headers) {
    const name = field[0];
    if (HOP_BY_HOP_LENGTH[name.length] !== true && (listed === undefined || !sameLength(listed, name))) {
      out.push(field);
      continue;
    }
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && !(listed?.includes(lower) ?? false)) out.push(field);
  }
  return out;
}

function sameLength(names: readonly string[], name: string): boolean {
  for (const n of names) if (n.length === name.length) return true;
  return false;
}

/**
 * Pure: true when a Via element was received by `pseudonym`, i.e. this request has passed through us already.
 * Elements are `protocol received-by [comment]`; comments may contain commas, so they are removed first.
 */
export function viaHasLoop(headers: RawHeaders, pseudonym: string): boolean {
  const me = pseudonym.toLowerCase();
  for (const [name, value] of headers) {
    if (name.length !== 3 || name.toLowerCase() !== 'via') continue;
    for (const element of value.replace(/\([^)]*\)/g, '').split(',')) {
      const receivedBy = element.trim().split(/\s+/)[1];
      if (receivedBy !== undefined && receivedBy.toLowerCase() === me) return true;
    }
  }
  return false;
}

/** Pure: the headers with our Via element appended as its own field line (equivalent to joining, RFC 9110 §5.3). */
export function appendVia(headers: RawHeaders, version: '1.0' | '1.1', pseudonym: string): RawHeaders {
  return [...headers, ['Via', `${version} ${pseudonym}`]];
}

/**
 * Hop-by-hop removal and Via on both paths, and loop detection. A request that carries our own pseudonym in Via has
 * come back to us (a chain misconfigured into a ring, or a target that resolves to the proxy): answer 508 rather
 * than forward it forever.
 */
export function forwardedStage(cfg: ForwardedConfig): Stage {
  const { enabled, pseudonym } = cfg.via;
  const viaValue = `1.1 ${pseudonym}`;
  return {
    name: 'forwarded',
    onRequest(flow) {
      const req = flow.request;
      if (enabled && viaHasLoop(req.headers, pseudonym)) {
        const error = new ProxyError('LOOP_DETECTED', `the request already passed through ${pseudonym} (Via)`);
        flow.error = error;
        return { kind: 'reply', ...errorResponse(error, flow) };
      }
      const stripped = stripHopByHop(req.headers);
      if (enabled) stripped.push(['Via', `${req.version} ${pseudonym}`]); // appendVia on our own fresh copy
      req.headers = stripped;
      return CONTINUE;
    },
    onResponse(flow) {
      const res = flow.response;
      if (!res) return;
      const stripped = stripHopByHop(res.headers);
      // The version of the hop we received the response on; undici speaks HTTP/1.1 to origins.
      if (enabled) stripped.push(['Via', viaValue]);
      res.headers = stripped;
    },
  };
}
