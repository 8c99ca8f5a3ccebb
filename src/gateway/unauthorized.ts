import type { RawHeaders } from '../core/flow.js';
import type { Verdict } from '../core/stage.js';

const enc = new TextEncoder();

/** 401 with its challenge (RFC 9110 §11.6.1); the body says why without echoing anything the client sent. */
export function unauthorized(challenge: string, why: string): Verdict {
  const body = enc.encode(`401 Unauthorized: ${why}\n`);
  const headers: RawHeaders = [
    ['WWW-Authenticate', challenge], ['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', String(body.length)],
    ['Cache-Control', 'no-store'],
  ];
  return { kind: 'reply', head: { status: 401, reason: 'Unauthorized', headers }, body };
}

/** A quoted-string for an auth-param (RFC 9110 §5.6.4). */
export function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** Removes the Authorization field (and only it) so the backend never sees the gateway's credentials. */
export function withoutAuthorization(headers: RawHeaders): RawHeaders {
  return headers.filter(([name]) => name.toLowerCase() !== 'authorization');
}
