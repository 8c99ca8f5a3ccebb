import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import type { Clock } from '../core/clock.js';
import type { TargetGuard } from './target-guard.js';

/** A destination the SSRF guard refused; mapUpstreamError turns it into FORBIDDEN_TARGET (403). */
export class TargetForbiddenError extends Error {
  readonly code = 'ERR_PORTICO_TARGET_FORBIDDEN';
  constructor(readonly host: string, readonly reason: string) {
    super(`${host}: ${reason}`);
    this.name = 'TargetForbiddenError';
  }
}

/** Resolves a name to all of its addresses (getaddrinfo order, /etc/hosts included); injectable for tests. */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export interface GuardedLookupOptions {
  guard: TargetGuard;
  /** The destination port when known (tunnels): enables the "is this the proxy itself" check. */
  port?: number;
  resolve?: Resolver;
  /** Called with the DNS time in ms, measured on the injected clock. */
  onTiming?: (ms: number, hostname: string) => void;
  clock?: Clock;
}

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, order: 'verbatim' }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

/**
 * A dns.lookup-compatible function for undici's connect.lookup and net.connect({lookup}). Checking the resolved
 * addresses (not the name) is what stops a public name that points at 127.0.0.1 or 169.254.169.254. The socket then
 * connects to exactly the address checked here, so DNS rebinding between check and use is not possible.
 */
export function createGuardedLookup(opts: GuardedLookupOptions): LookupFunction {
  const resolve = opts.resolve ?? systemResolver;
  return (hostname, options, callback) => {
    const started = opts.clock?.monotonic();
    resolveAllowed(hostname, options, resolve, opts)
      .then((addresses) => {
        if (started !== undefined && opts.clock) opts.onTiming?.(opts.clock.monotonic() - started, hostname);
        const first = addresses[0] as LookupAddress;
        if (options.all) callback(null, addresses);
        else callback(null, first.address, first.family);
      })
      .catch((err: NodeJS.ErrnoException) => callback(err, options.all ? [] : '', undefined));
  };
}

async function resolveAllowed(hostname: string, options: LookupOptions, resolve: Resolver,
  opts: GuardedLookupOptions): Promise<LookupAddress[]> {
  const family = isIP(hostname);
  const found = family !== 0 ? [{ address: hostname, family }] : await resolve(hostname);
  const wanted = options.family === 4 || options.family === 6 ? found.filter((a) => a.family === options.family) : found;
  if (wanted.length === 0) throw notFound(hostname);
  const port = opts.port ?? 0;
  let refusal = '';
  const allowed = wanted.filter((a) => {
    const verdict = opts.guard.checkResolved(hostname, a.address, port);
    if (!verdict.ok && refusal === '') refusal = verdict.reason;
    return verdict.ok;
  });
  if (allowed.length === 0) throw new TargetForbiddenError(hostname, refusal);
  return allowed;
}

function notFound(hostname: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException & { hostname?: string } = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
  err.code = 'ENOTFOUND';
  err.syscall = 'getaddrinfo';
  err.hostname = hostname;
  return err;
}
