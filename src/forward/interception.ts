import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import picomatch from 'picomatch';
import type { Logger } from 'pino';
import type { ForwardConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import { ensureCa, loadCa, type CaMaterial } from '../tls/ca.js';
import { CertificateIssuer } from '../tls/issuer.js';
import { createInterceptor } from './mitm.js';
import type { TunnelInfo } from './tunnel-info.js';

export interface Interception {
  /** Portico's CA when one exists (also served at http://portico.ca/ without --mitm). */
  readonly ca: CaMaterial | undefined;
  readonly issuer: CertificateIssuer | undefined;
  /** True when this CONNECT host is intercepted (MITM on and not in mitm.bypass). */
  shouldIntercept(host: string): boolean;
  intercept(socket: Socket, head: Buffer, info: TunnelInfo): void;
}

/** Loads (or, with --mitm, creates) the CA and builds the certificate issuer and the TLS interceptor. */
export async function buildInterception(config: ForwardConfig, deps: {
  log: Logger; clock: Clock; bus: EventBus; tlsServer: Server; plainServer: Server; tunnels: Set<Socket>;
}): Promise<Interception> {
  const { log, clock } = deps;
  const ca = config.mitm.enabled ? await ensureCa(config.certs) : await loadCa(config.certs).catch(() => undefined);
  for (const warning of ca?.warnings ?? []) log.warn({ certs: config.certs }, warning);
  if (!ca || !config.mitm.enabled) return { ca, issuer: undefined, shouldIntercept: () => false, intercept: () => undefined };
  const issuer = new CertificateIssuer(ca, {
    cacheSize: config.mitm.certCacheSize, validityDays: config.mitm.leafValidityDays, clock,
    log: (msg: string, err?: unknown) => log.warn({ err }, msg),
  });
  const bypass = config.mitm.bypass.length > 0 ? picomatch([...config.mitm.bypass], { nocase: true }) : () => false;
  const intercept = createInterceptor({
    clock, log, bus: deps.bus, certificates: issuer, tlsServer: deps.tlsServer, plainServer: deps.plainServer,
    handshakeTimeoutMs: config.tunnel.handshakeTimeoutMs, tunnels: deps.tunnels,
  });
  return { ca, issuer, shouldIntercept: (host) => !bypass(host), intercept };
}
