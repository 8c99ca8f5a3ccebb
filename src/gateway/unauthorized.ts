import type { Flow, RawHeaders } from '../core/flow.js';
import { removeHeader } from '../core/headers.js';
import { CONTINUE, type Verdict } from '../core/stage.js';

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

/** Why `unauthorized` refused (its body's text), for explainers; undefined for any other verdict. */
export function refusalReason(v: Verdict): string | undefined {
  if (v.kind !== 'reply' || v.head.status !== 401 || !(v.body instanceof Uint8Array)) return undefined;
  return new TextDecoder().decode(v.body).replace(/^401 Unauthorized: /, '').trim();
}

/** A quoted-string for an auth-param (RFC 9110 §5.6.4). */
export function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * Lets an authenticated request on: names its user (when known) on the flow and, unless the route forwards
 * credentials, removes the Authorization field so the backend never sees the gateway's credentials.
 */
export function admit(flow: Flow, user: string | undefined, forwardCredentials: boolean): Verdict {
  if (user !== undefined) flow.client.user = user;
  if (!forwardCredentials) flow.request.headers = removeHeader(flow.request.headers, 'authorization');
  return CONTINUE;
}
