import { screenRequestHead, type HeadLimits } from '../../core/request-screen.js';

/** A request head as llhttp reported it (flat name, value list as node's rawHeaders). */
export interface ParsedHead {
  readonly method: string;
  readonly url: string;
  readonly versionMajor: number;
  readonly versionMinor: number;
  readonly rawHeaders: readonly string[];
  /** llhttp's verdict from the version and Connection: whether the client keeps the connection open. */
  readonly keepAlive: boolean;
  readonly upgrade: boolean;
}

/**
 * Pure: whether the express front door serves this request itself. It serves the common case only: an HTTP/1.x
 * request without a body (no Content-Length above 0, no Transfer-Encoding), no Upgrade, no Expect, that passes the
 * head screen (the mode's target rules come after: expressTarget). Anything else (a body to stream, a WebSocket, a 414
 * or 431 to answer, a malformed field) goes to node:http with the connection, where the one tested path for it lives.
 */
export function expressEligible(head: ParsedHead, limits: HeadLimits): boolean {
  if (head.upgrade || head.method === 'CONNECT' || head.versionMajor !== 1 || (head.versionMinor !== 0 && head.versionMinor !== 1)) return false;
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const n = name.length;
    if (n === 14 && name.toLowerCase() === 'content-length') {
      if ((raw[i + 1] as string).trim() !== '0') return false;
    } else if ((n === 17 && name.toLowerCase() === 'transfer-encoding') || (n === 6 && name.toLowerCase() === 'expect')) {
      return false;
    }
  }
  return screenRequestHead({ url: head.url, httpVersion: head.versionMinor === 0 ? '1.0' : '1.1', rawHeaders: raw }, limits) === undefined;
}

/** How a mode reads a request's target: the URL to serve it for, or undefined to hand the connection to node:http. */
export type ExpressTarget = (head: ParsedHead) => URL | undefined;

/** The reverse proxy's: an origin-form target against Host (or the first listener's authority). */
export function originFormTarget(fallbackHost: string): ExpressTarget {
  return (head) => {
    if (head.url.charCodeAt(0) !== 47 /* / */) return undefined;
    let host = fallbackHost;
    const raw = head.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      if (name.length === 4 && name.toLowerCase() === 'host') host = raw[i + 1] as string;
    }
    try { return new URL(`http://${host}${head.url}`); } catch { return undefined; }
  };
}
