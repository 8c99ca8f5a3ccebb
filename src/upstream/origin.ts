import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import type { ForwardConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { ProxyError } from '../core/errors.js';
import type { Flow } from '../core/flow.js';
import type { Upstream, UpstreamResponse } from '../core/stage.js';
import { ConnectionTimings } from './connection-timings.js';
import { exchange, upstreamHeaders } from './dispatch.js';
import { mapUpstreamError } from './errors.js';
import { H1Agent } from './h1/agent.js';
import { UPSTREAM_MAX_HEADER_BYTES } from './h1/pool.js';
import { createGuardedLookup, type Resolver } from './lookup.js';
import type { TargetGuard } from './target-guard.js';

export type OriginConfig = Pick<ForwardConfig['upstream'], 'connectTimeoutMs' | 'headersTimeoutMs' | 'bodyTimeoutMs'
  | 'keepAliveTimeoutMs' | 'maxConnectionsPerOrigin' | 'ca' | 'insecure'>;

export interface UpstreamDeps {
  guard: TargetGuard;
  clock: Clock;
  /** DNS resolver for the guarded lookup (tests inject one; default getaddrinfo). */
  resolve?: Resolver;
}

export interface ClosableUpstream extends Upstream {
  close(): Promise<void>;
}

/**
 * Sends flows straight to their origin over one H1Agent (Portico's HTTP/1.1 client): a keep-alive pool per origin,
 * capped at maxConnectionsPerOrigin, every timeout from config. Every connection goes through the guarded lookup (in
 * undici's connector, which also does TLS), and IP-literal hosts (which skip DNS) are checked here before dispatch.
 */
export function createOriginUpstream(cfg: OriginConfig, deps: UpstreamDeps): ClosableUpstream {
  const lookup = createGuardedLookup({ guard: deps.guard, ...(deps.resolve ? { resolve: deps.resolve } : {}) });
  const secureContext = upstreamSecureContext(cfg.ca);
  const timings = new ConnectionTimings(deps.clock);
  const agent = new H1Agent({
    connections: cfg.maxConnectionsPerOrigin, keepAliveTimeoutMs: cfg.keepAliveTimeoutMs,
    headersTimeoutMs: cfg.headersTimeoutMs, bodyTimeoutMs: cfg.bodyTimeoutMs, queueTimeoutMs: 0,
    maxHeaderBytes: UPSTREAM_MAX_HEADER_BYTES,
    connect: timings.connector({ timeout: cfg.connectTimeoutMs, lookup, rejectUnauthorized: !cfg.insecure, secureContext }),
    // IP-literal http origins (checked by the guard in send(), no DNS to do) are dialled on raw handles.
    rawConnect: timings.rawConnector(cfg.connectTimeoutMs),
    onRequestSocket: (socket) => timings.sent(socket),
  });
  return {
    send: (flow) => send(flow, agent, cfg, deps, timings),
    close: () => agent.close(),
  };
}

async function send(flow: Flow, agent: H1Agent, cfg: OriginConfig, deps: UpstreamDeps, timings: ConnectionTimings): Promise<UpstreamResponse> {
  const { host, port } = checkedTarget(flow, deps.guard);
  flow.notes.upstream = `${host}:${port}`;
  return exchange(flow, {
    dispatcher: agent, clock: deps.clock, mapError: mapUpstreamError, onConnect: (f) => timings.track(f),
    headersTimeoutMs: cfg.headersTimeoutMs, bodyTimeoutMs: cfg.bodyTimeoutMs, bufferComplete: true,
    headers: upstreamHeaders(flow.request.headers, flow.request.url.host, flow.requestBody !== null),
  });
}

/** host (bracketed if IPv6) and port of the flow's target, after the guard's verdict on the host as written. */
export function checkedTarget(flow: Flow, guard: TargetGuard): { host: string; port: number } {
  const url = flow.request.url;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ProxyError('BAD_REQUEST', `cannot forward ${url.protocol} URLs`);
  }
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const verdict = guard.checkHost(url.hostname, port);
  if (!verdict.ok) throw new ProxyError('FORBIDDEN_TARGET', verdict.reason);
  return { host: url.hostname, port };
}

/**
 * One TLS context for every upstream connection, built at startup. Passing `ca` per connection instead made node
 * build a context from ~150 root certificates for every new origin connection (~37 ms of blocked event loop each,
 * measured by the bench with --upstream-ca).
 */
export function upstreamSecureContext(caFile: string | undefined): SecureContext {
  const ca = trustedCas(caFile);
  return createSecureContext(ca ? { ca } : {});
}

/**
 * An extra CA must be added to, not replace, the usual roots, so it is joined with node's bundled store (an explicit
 * `ca` option would otherwise drop them). Read once at startup; a missing file fails loudly with its path.
 */
export function trustedCas(file: string | undefined): string[] | undefined {
  if (!file) return undefined;
  try {
    return [...rootCertificates, readFileSync(file, 'utf8')];
  } catch (err) {
    throw new Error(`upstream.ca: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** undici refuses keepAliveTimeout 0; our 0 means "no reuse", which undici spells pipelining 0. */
export function keepAlive(ms: number): { keepAliveTimeout: number; keepAliveMaxTimeout: number } | { pipelining: 0 } {
  // keepAliveMaxTimeout caps the server's Keep-Alive hint, so our setting is the upper bound either way.
  return ms > 0 ? { keepAliveTimeout: ms, keepAliveMaxTimeout: ms } : { pipelining: 0 };
}
