import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { Authority } from './target.js';

/** The narrow interfaces forward/ needs from upstream/, stages/ and tls/ (wired in server.ts). */
export type AccessResult = { ok: true; user?: string } | { ok: false; code: 'FORBIDDEN_CLIENT' | 'PROXY_AUTH_REQUIRED' };

export interface AccessCheck {
  check(clientIp: string, proxyAuthorization: string | undefined): Promise<AccessResult>;
  clientAllowed(clientIp: string): boolean;
  readonly realm: string;
  /** The Proxy-Authenticate value for 407 answers. */
  readonly challenge: string;
}

export type GuardResult = { ok: true } | { ok: false; reason: string };

export interface TargetCheck {
  checkHost(host: string, port: number): GuardResult;
}

/** Opens a TCP connection to the target (directly or through a parent proxy), or rejects with a ProxyError. */
export type TunnelDialer = (target: Authority, signal: AbortSignal) => Promise<Socket>;

export interface ContextSource {
  secureContext(host: string): Promise<SecureContext>;
}
