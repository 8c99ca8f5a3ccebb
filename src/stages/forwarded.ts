import { errorResponse } from '../core/error-page.js';
import { ProxyError } from '../core/errors.js';
import type { RawHeaders } from '../core/flow.js';
import { headerTokens } from '../core/headers.js';
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

const HOP_BY_HOP_LENGTHS = new Set([...HOP_BY_HOP].map((name) => name.length));

/**
 * Pure: a copy without hop-by-hop fields, including every field the Connection header names. One pass over the
 * fields, and a set of listed names only when a Connection field is there (this runs twice per exchange).
 */
export function stripHopByHop(headers: RawHeaders): RawHeaders {
  let listed: Set<string> | undefined;
  for (const [name, value] of headers) {
    if (name.length === 10 && name.toLowerCase() === 'connection') (listed ??= new Set()).add(value);
  }
  if (listed) listed = new Set(headerTokens(headers, 'connection'));
  const out: RawHeaders = [];
  for (const field of headers) {
    const name = field[0];
    // Without a Connection list only the fixed names go, and a name of another length cannot be one of them.
    if (listed === undefined && !HOP_BY_HOP_LENGTHS.has(name.length)) {
      out.push(field);
      continue;
    }
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && !listed?.has(lower)) out.push(field);
  }
  return out;
}

/**
 * Pure: true when a Via element was received by `pseudonym`, i.e. this request has passed through us already.
 * Elements are `protocol received-by [comment]`; comments may contain commas, so they are removed first.
 */
export function viaHasLoop(headers: RawHeaders, pseudonym: string): boolean {
  const me = pseudonym.toLowerCase();
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== 'via') continue;
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
