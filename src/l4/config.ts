import { BlockList } from 'node:net';
import picomatch from 'picomatch';
import { z } from 'zod';
import { parseBalance } from '../balance/spec.js';
import { clusterSchema } from '../cluster/config.js';
import { backendSchema } from '../config/backend-schema.js';
import { adminSchema, listenSchema, logSchema } from '../config/schema.js';

const ms = z.number().int().nonnegative();
const positive = z.number().int().positive();
const name = z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ -');

const balanceSchema = z.string().default('round-robin').transform((text, ctx) => {
  try {
    const spec = parseBalance(text);
    if (spec.hashOn !== undefined && spec.hashOn.kind !== 'ip') {
      ctx.addIssue({ code: 'custom', message: `balance "${text}": L4 sees no HTTP; hash on the client IP (hash-ip, maglev-ip)` });
      return z.NEVER;
    }
    return spec;
  } catch (err) { ctx.addIssue({ code: 'custom', message: (err as Error).message }); return z.NEVER; }
});

const cidrSchema = z.string().refine((c) => {
  try { cidrList([c]); return true; } catch { return false; }
}, 'expected an IP address or CIDR (10.0.0.0/8, ::1/128)');

/** Builds a BlockList of addresses and subnets; throws on a bad entry. */
export function cidrList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [ip = '', bits] = entry.split('/');
    const family = ip.includes(':') ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(ip, family);
    else list.addSubnet(ip, Number(bits), family);
  }
  return list;
}

const healthSchema = z.object({
  intervalMs: positive.default(2_000),
  timeoutMs: positive.default(1_000),
  jitter: z.number().min(0).max(1).default(0.1),
  rise: positive.default(2),
  fall: positive.default(3),
  /** Written after connecting (e.g. `PING\r\n`); `\r`, `\n` escapes are YAML's own. */
  send: z.string().max(4096).optional(),
  /** The check passes once this text arrives (within timeoutMs); a plain TCP connect check without it. */
  expect: z.string().min(1).max(1024).optional(),
}).strict();

const poolSchema = z.object({
  backends: z.array(backendSchema).min(1),
  balance: balanceSchema,
  /**
   * Send a PROXY protocol header to each backend before any client byte (HAProxy `send-proxy` / `send-proxy-v2`);
   * towards UDP backends only v2 (DGRAM), in front of every datagram.
   */
  proxyProtocol: z.enum(['off', 'v1', 'v2']).default('off'),
  /** Active checks (TCP connect, or send/expect); off unless given. */
  health: healthSchema.optional(),
  outlier: z.object({
    consecutiveFailures: z.number().int().nonnegative().default(3),
    baseEjectionMs: ms.default(10_000),
    maxEjectionMs: ms.default(300_000),
    maxEjectionPercent: z.number().min(0).max(100).default(50),
    panicThresholdPercent: z.number().min(0).max(100).default(0),
  }).strict().default({ consecutiveFailures: 3, baseEjectionMs: 10_000, maxEjectionMs: 300_000, maxEjectionPercent: 50, panicThresholdPercent: 0 }),
  /** Client IP → backend with an idle TTL; survives health flaps (HAProxy `stick on src`). Off unless given. */
  stick: z.object({ ttlMs: positive.default(30 * 60_000), maxEntries: positive.default(100_000) }).strict().optional(),
  /** Connections at once per backend (0 = unlimited); a full backend is skipped like a down one. */
  maxConnectionsPerBackend: z.number().int().nonnegative().default(0),
  connectTimeoutMs: positive.default(3_000),
  /** Backends tried per connection before the client is closed (a failed connect moves on to another). */
  maxAttempts: positive.default(3),
  noDelay: z.boolean().default(true),
  /**
   * TCP keep-alive probes on both sockets. Off by default, as HAProxy (`option tcpka`) and nginx stream
   * (`proxy_socket_keepalive`) have it: the idle timeout already ends dead connections, and it costs two
   * setsockopt calls per connection.
   */
  keepAlive: z.object({ enabled: z.boolean().default(false), initialDelayMs: ms.default(60_000) }).strict()
    .default({ enabled: false, initialDelayMs: 60_000 }),
  /** Coalesce client writes towards the backend for this long (cork/uncork); 0 = write at once. */
  coalesceWindowMs: ms.max(1000).default(0),
  /**
   * Backend pre-connect (Envoy `preconnect_policy`): keep `perBackend` connected sockets per backend, opened after
   * a client was sent there, so the next client is spliced without waiting a connect; unused ones close after
   * `maxIdleMs`. Off by default (DEFAULT_PRECONNECT says why); never with `proxyProtocol`, whose header names a
   * client that does not exist yet (0 is the only value allowed there).
   */
  preconnect: z.object({
    perBackend: z.number().int().min(0).max(64).optional(),
    maxIdleMs: positive.max(600_000).default(5_000),
  }).strict().optional(),
}).strict().superRefine((p, ctx) => {
  if (p.proxyProtocol !== 'off' && (p.preconnect?.perBackend ?? 0) > 0) {
    ctx.addIssue({ code: 'custom', path: ['preconnect', 'perBackend'], message: 'a PROXY header names the client: a pool with proxyProtocol cannot pre-connect (set 0)' });
  }
});

const sniRouteSchema = z.object({
  /** Server names: exact or picomatch globs (`*.example.com`), any case. */
  match: z.union([z.string(), z.array(z.string()).min(1)]).transform((m) => (typeof m === 'string' ? [m] : m)),
  pool: name,
}).strict();

const listenerSchema = z.object({
  name: name.optional(),
  listen: listenSchema,
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
  /** The pool for connections no SNI route claims (and every connection without `sni`). */
  pool: name.optional(),
  /** TLS passthrough: route by the ClientHello's server name, first match wins; TLS is never terminated. */
  sni: z.array(sniRouteSchema).optional(),
  sniPeekTimeoutMs: positive.default(5_000),
  maxSniBytes: z.number().int().min(512).max(65_536).default(16_384),
  /** Peers (CIDRs) that must open with a PROXY v1/v2 header; the client address is taken from it. */
  acceptProxyProtocol: z.object({ trusted: z.array(cidrSchema).min(1), timeoutMs: positive.default(5_000) }).strict().optional(),
  /** Connections (TCP) or sessions (UDP) at once; more are closed at accept / dropped (0 = unlimited). */
  maxConnections: z.number().int().nonnegative().default(10_000),
  /** TCP: a connection with no bytes either way for this long is closed. UDP: a session idle this long ends. */
  idleTimeoutMs: positive.optional(),
}).strict();

const DEFAULT_SHUTDOWN = { graceMs: 10_000 };

export const l4ConfigSchema = z.object({
  listeners: z.array(listenerSchema).min(1),
  pools: z.record(name, poolSchema).refine((p) => Object.keys(p).length > 0, 'at least one pool'),
  shutdown: z.object({ graceMs: ms.default(10_000) }).strict().default(DEFAULT_SHUTDOWN),
  /** `--workers N|auto`: worker processes sharing the listeners (src/cluster/); health, stick tables and UDP sessions are per worker. */
  cluster: clusterSchema,
  log: logSchema,
  admin: adminSchema,
}).strict().superRefine((cfg, ctx) => {
  const pools = Object.keys(cfg.pools);
  const seen = new Set<string>();
  cfg.listeners.forEach((l, i) => {
    const key = `${l.protocol}://${l.listen.host}:${l.listen.port}`;
    if (l.listen.port !== 0 && seen.has(key)) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'listen'], message: `${key} is listed twice` });
    seen.add(key);
    const known = (pool: string | undefined, path: (string | number)[]): void => {
      if (pool !== undefined && !pools.includes(pool)) ctx.addIssue({ code: 'custom', path: ['listeners', i, ...path], message: `unknown pool "${pool}"` });
    };
    known(l.pool, ['pool']);
    if (l.pool === undefined && l.sni === undefined && pools.length > 1) {
      ctx.addIssue({ code: 'custom', path: ['listeners', i, 'pool'], message: 'several pools: name the one this listener uses' });
    }
    l.sni?.forEach((r, j) => {
      known(r.pool, ['sni', j, 'pool']);
      for (const m of r.match) {
        try { picomatch(m); } catch (err) { ctx.addIssue({ code: 'custom', path: ['listeners', i, 'sni', j, 'match'], message: (err as Error).message }); }
      }
    });
    if (l.protocol === 'udp') {
      if (l.sni !== undefined) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'sni'], message: 'SNI routing needs TCP (TLS)' });
      if (l.acceptProxyProtocol !== undefined) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'acceptProxyProtocol'], message: 'PROXY protocol is accepted on TCP listeners only' });
      const pool = cfg.pools[l.pool ?? pools[0] ?? ''];
      // v2 has a DGRAM form (header on every datagram); v1 is text for TCP streams only (TCP4/TCP6).
      if (pool !== undefined && pool.proxyProtocol === 'v1') {
        ctx.addIssue({ code: 'custom', path: ['listeners', i, 'pool'], message: 'PROXY protocol v1 has no UDP form: a UDP listener\'s pool may send v2 only (proxyProtocol: v2)' });
      }
    }
  });
});

export type L4Config = z.output<typeof l4ConfigSchema>;
export type L4PoolConfig = L4Config['pools'][string];
export type L4ListenerConfig = L4Config['listeners'][number];

/**
 * Pre-connected sockets per backend when the pool does not say: none. Measured on loopback (nginx backend, wrk, a
 * new connection per request) it gained nothing: there the handshake is done by the time the event loop next
 * polls, so no wait is left to hide, while each warm socket costs a read start and listeners and leaves idle
 * connections on the backend. It pays where a connect costs a network round trip; turn it on per pool there.
 */
export const DEFAULT_PRECONNECT = 0;

/** The pool's pre-connect settings: none when it sends PROXY headers, else its own or the default. */
export function preconnectOf(p: L4PoolConfig): { perBackend: number; maxIdleMs: number } {
  const maxIdleMs = p.preconnect?.maxIdleMs ?? 5_000;
  if (p.proxyProtocol !== 'off') return { perBackend: 0, maxIdleMs };
  return { perBackend: p.preconnect?.perBackend ?? DEFAULT_PRECONNECT, maxIdleMs };
}

/** Defaults that depend on the protocol: TCP idle 5 min (HAProxy `timeout client` style), UDP sessions 30 s. */
export function idleTimeoutOf(l: L4ListenerConfig): number {
  return l.idleTimeoutMs ?? (l.protocol === 'udp' ? 30_000 : 300_000);
}

/** The listener's fallback pool: its `pool`, else the only (first) pool. */
export function defaultPoolOf(l: L4ListenerConfig, config: L4Config): string | undefined {
  return l.pool ?? (l.sni === undefined ? Object.keys(config.pools)[0] : undefined);
}
