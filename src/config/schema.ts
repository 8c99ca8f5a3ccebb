import { z } from 'zod';
import { clusterSchema } from '../cluster/config.js';
import { LIST_FORMATS } from '../policy/list-parse.js';

/** host:port with the host optional ("8080" → 127.0.0.1:8080); IPv6 hosts in brackets. */
export const listenSchema = z.string().transform((value, ctx) => {
  const parsed = parseHostPort(value, '127.0.0.1');
  if (!parsed) {
    ctx.addIssue({ code: 'custom', message: `expected HOST:PORT, got "${value}"` });
    return z.NEVER;
  }
  return parsed;
});

export interface HostPort { host: string; port: number }

export function parseHostPort(value: string, defaultHost: string): HostPort | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value) ?? /^()()(\d{1,5})$/.exec(value);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] || m[2] || defaultHost;
  return { host, port };
}

const ms = (def: number) => z.number().int().nonnegative().default(def);
const bytes = (def: number) => z.number().int().positive().default(def);
const stringList = z.union([z.array(z.string()), z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))]);

const mitmSchema = z.preprocess(
  (v) => (typeof v === 'boolean' ? { enabled: v } : v),
  z.object({
    enabled: z.boolean().default(false),
    /** picomatch globs of hosts that are always tunnelled blind (certificate-pinned apps). */
    bypass: stringList.default([]),
    /** Issued leaf certificates kept in memory. */
    certCacheSize: z.number().int().positive().default(1000),
    /** Validity of issued leaf certificates (browsers accept at most 397 days). */
    leafValidityDays: z.number().int().min(1).max(397).default(365),
  }).strict().default({ enabled: false, bypass: [], certCacheSize: 1000, leafValidityDays: 365 }),
);

const groupSchema = z.object({ clients: stringList.optional(), users: stringList.optional() }).strict();

/** Content policy (issue 3): the rules folder, global report-only, the zone of time windows, client groups. */
const policySchema = z.object({
  /** Folder of `*.yaml` rule files and `lists/NAME.txt` category lists; missing = no rules. */
  rules: z.string().default('rules'),
  reportOnly: z.boolean().default(false),
  timeZone: z.string().default('UTC'),
  defaultAction: z.enum(['allow', 'block']).default('allow'),
  /** Group name → client CIDRs and proxy-auth users (rules files may define more). */
  groups: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/), groupSchema).default({}),
  /** List file name or glob (`ads.txt`, `*.hosts`, `lists/big.txt`) → its format, instead of detecting it. */
  listFormats: z.record(z.string().min(1), z.enum(LIST_FORMATS, {
    error: (iss) => `unknown list format ${JSON.stringify(iss.input)} (known: ${LIST_FORMATS.join(', ')})`,
  })).default({}),
  /** Reload when a file in the folder changes (SIGHUP always reloads). */
  watch: z.boolean().default(true),
  reloadDebounceMs: ms(250),
}).strict().default({
  rules: 'rules', reportOnly: false, timeZone: 'UTC', defaultAction: 'allow', groups: {}, listFormats: {}, watch: true, reloadDebounceMs: 250,
});

/** A recent mainstream browser's User-Agent, what `strict` sends instead of the client's. */
export const COMMON_USER_AGENT = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
export const TRACKING_PARAMS = ['utm_*', 'fbclid', 'gclid', 'dclid', 'msclkid', 'mc_eid', 'yclid', '_hsenc', '_hsmi', 'igshid'];

/** Header anonymization (issue 3): the default profile (rules may choose another per request) and its knobs. */
const anonymizeSchema = z.object({
  profile: z.enum(['strict', 'standard', 'off']).default('standard'),
  userAgent: z.string().default(COMMON_USER_AGENT),
  /** Query parameter names (globs) `strict` removes. */
  trackingParams: stringList.default(TRACKING_PARAMS),
  /** Categories (rules/lists/NAME) whose hosts lose cookies both ways under `strict`. */
  trackerCategories: stringList.default(['trackers', 'ads']),
  /** With profile `off`: add RFC 7239 Forwarded and X-Forwarded-For naming the client. */
  forwarded: z.boolean().default(false),
}).strict().default({ profile: 'standard', userAgent: COMMON_USER_AGENT, trackingParams: TRACKING_PARAMS, trackerCategories: ['trackers', 'ads'], forwarded: false });

const redisCacheDefaults = { namespace: 'portico-cache:', chunkBytes: 512 * 1024, bodyMsPerMiB: 25, failureThreshold: 3, probeIntervalMs: 1000, purgeTimeoutMs: 30_000 };
const cacheDefaults = {
  store: 'memory', maxObjectBytes: 8 * 1024 * 1024, maxMemoryBytes: 256 * 1024 * 1024, heuristicMaxMs: 86_400_000,
  keepForRevalidationMs: 3_600_000, coalesceWaitMs: 5000, hitForPassMs: 10_000, opTimeoutMs: 50, cacheStatus: true, statusName: 'portico',
  redis: redisCacheDefaults,
};

/** The HTTP cache (RFC 9111 shared cache); `cache: false` is `store: off`. */
const cacheSchema = z.preprocess(
  (v) => (v === false ? { store: 'off' } : v === true ? {} : v),
  z.object({
    /**
     * memory (in-process LRU), redis://host:port[/db], redis-cluster://host:port,… or
     * redis+sentinel://host:port,…/mastername[/db] (shared by Porticos), or off.
     */
    store: z.string().refine((v) => v === 'memory' || v === 'off' || /^rediss?:\/\/[^/,]+(\/\d+)?\/?$/.test(v)
      || /^rediss?-cluster:\/\/[^/]+\/?$/.test(v) || /^rediss?\+sentinel:\/\/[^/]+\/[^/]+(\/\d+)?\/?$/.test(v),
    { message: 'expected memory, off, redis://HOST:PORT[/DB], redis-cluster://HOST:PORT[,HOST:PORT…] or redis+sentinel://HOST:PORT[,HOST:PORT…]/MASTER[/DB]' }).default('memory'),
    /** Larger responses stream through uncached (never buffered). */
    maxObjectBytes: bytes(cacheDefaults.maxObjectBytes),
    /** Budget of the memory store (LRU eviction beyond it). */
    maxMemoryBytes: bytes(cacheDefaults.maxMemoryBytes),
    /** Optional cap on every freshness lifetime, explicit or heuristic. */
    defaultTtlCapMs: z.number().int().positive().optional(),
    /** Cap of heuristic freshness (10% of the Last-Modified age). */
    heuristicMaxMs: ms(cacheDefaults.heuristicMaxMs),
    /** Entries with validators are kept this long past their freshness, to be revalidated with a 304. */
    keepForRevalidationMs: ms(cacheDefaults.keepForRevalidationMs),
    /** Concurrent misses for one URL wait at most this long for the first (0: no coalescing). */
    coalesceWaitMs: ms(cacheDefaults.coalesceWaitMs),
    /** A URL whose response was not storable skips coalescing this long (Varnish's hit-for-pass); 0 disables. */
    hitForPassMs: ms(cacheDefaults.hitForPassMs),
    /** Budget of every store operation; past it the request goes to the origin (BYPASS). */
    opTimeoutMs: z.number().int().positive().default(cacheDefaults.opTimeoutMs),
    /** Add the RFC 9211 Cache-Status field. */
    cacheStatus: z.boolean().default(true),
    statusName: z.string().regex(/^[A-Za-z0-9._-]+$/).default('portico'),
    redis: z.object({
      /** Prefix of every key, so several deployments can share one Redis. */
      namespace: z.string().default(redisCacheDefaults.namespace),
      /** Bodies are stored as raw chunks of at most this size. */
      chunkBytes: bytes(redisCacheDefaults.chunkBytes),
      /** Added to opTimeoutMs per MiB of body read or written, so large entries are not mistaken for an outage. */
      bodyMsPerMiB: ms(redisCacheDefaults.bodyMsPerMiB),
      /** Consecutive failures that open the breaker (requests then bypass the cache at once). */
      failureThreshold: z.number().int().positive().default(redisCacheDefaults.failureThreshold),
      /** While the breaker is open, one probe per interval. */
      probeIntervalMs: ms(redisCacheDefaults.probeIntervalMs),
      purgeTimeoutMs: ms(redisCacheDefaults.purgeTimeoutMs),
    }).strict().default(redisCacheDefaults),
  }).strict().default(cacheDefaults),
);

const logDefaults = {
  level: 'info' as const, format: 'json' as const, accessLog: ['-'], headers: false, bodies: 0,
  redactHeaders: ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'],
  rotate: { count: 5 }, ringFlows: 10_000,
};

/** Logging (issue 5): process log level, the access log (format, destinations, rotation), what flow records capture. */
export const logSchema = z.object({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Access-log line format: JSON (pino), Squid's native access.log, or Apache/nginx combined. */
  format: z.enum(['json', 'squid', 'combined']).default('json'),
  /** Destinations: "-" is stdout, anything else a file rotated per `rotate`; [] turns the access log off. */
  accessLog: stringList.default(logDefaults.accessLog),
  /** Capture request/response headers on every flow record (secrets redacted). */
  headers: z.boolean().default(false),
  /** Keep the first N bytes of each body on flow records (uncompressed text types only); 0 = off. */
  bodies: z.number().int().nonnegative().max(1024 * 1024).default(0),
  /** Header names (any case) whose values are replaced by "[REDACTED]" everywhere. */
  redactHeaders: stringList.default(logDefaults.redactHeaders),
  /** Rotation of file destinations (pino-roll): by size ("10m", "1g"), by time ("daily", "hourly"), or both. */
  rotate: z.object({
    size: z.string().regex(/^\d+[kmg]?$/i).optional(),
    frequency: z.enum(['daily', 'hourly']).optional(),
    /** Rotated files kept besides the current one. */
    count: z.number().int().positive().default(5),
  }).strict().default(logDefaults.rotate),
  /** Finished flows kept in memory for /flows, /har and `log export`. */
  ringFlows: z.number().int().positive().default(logDefaults.ringFlows),
}).strict().default(logDefaults);

/** The admin HTTP endpoint (issue 5): off unless `listen` is set; loopback by default; optional bearer token. */
export const adminSchema = z.object({
  listen: listenSchema.optional(),
  token: z.string().min(1).optional(),
  /** Per-SSE-reader queue; beyond it events are dropped and the reader is told how many. */
  sseQueueEvents: z.number().int().positive().default(1000),
}).strict().default({ sseQueueEvents: 1000 });

/** Front-door limits shared by forward and reverse (issue 9): beyond them 503 (connections), 414 or 431 (heads). */
export const FRONT_DOOR_LIMIT_DEFAULTS = { maxConnectionsPerClient: 512, maxHeaderCount: 100, maxUrlBytes: 8192 };
export const frontDoorLimitFields = {
  /** Open connections one client address may hold; the next one gets 503 and is closed, others are unaffected. */
  maxConnectionsPerClient: z.number().int().positive().default(FRONT_DOOR_LIMIT_DEFAULTS.maxConnectionsPerClient),
  /** Header fields in one request head (Envoy's default is 100); more gets 431. */
  maxHeaderCount: z.number().int().positive().default(FRONT_DOOR_LIMIT_DEFAULTS.maxHeaderCount),
  /** Length of the request target as sent; longer gets 414. */
  maxUrlBytes: z.number().int().positive().default(FRONT_DOOR_LIMIT_DEFAULTS.maxUrlBytes),
};

export type LogConfig = z.output<typeof logSchema>;
export type AdminConfig = z.output<typeof adminSchema>;

export const forwardConfigSchema = z.object({
  listen: listenSchema.default({ host: '127.0.0.1', port: 8080 }),
  /** Folder of the CA and leaf material (see certs/README.md). */
  certs: z.string().default('certs'),
  mitm: mitmSchema,
  /** Ports CONNECT may reach (Squid's SSL_ports); others get 403. */
  connectPorts: z.array(z.number().int().min(1).max(65535)).default([443]),
  access: z.object({
    /** Client CIDRs allowed to use the proxy. Loopback only by default: never an open proxy. */
    allowClients: stringList.default(['127.0.0.0/8', '::1/128']),
    /** htpasswd-style file (user:bcrypt-or-scrypt-hash); when set, clients must authenticate (407). */
    authFile: z.string().optional(),
    realm: z.string().default('Portico'),
  }).strict().default({ allowClients: ['127.0.0.0/8', '::1/128'], realm: 'Portico' }),
  targets: z.object({
    /** CIDRs or host names the SSRF guard lets through (e.g. 127.0.0.0/8 for local tests). */
    allow: stringList.default([]),
  }).strict().default({ allow: [] }),
  upstream: z.object({
    /** Parent proxy (http://host:port): plain HTTP as absolute-form, HTTPS via CONNECT. */
    proxy: z.string().url().optional(),
    /** Extra CA file (PEM) trusted for origin certificates, besides the system store. */
    ca: z.string().optional(),
    /** Accept invalid origin certificates (never the default). */
    insecure: z.boolean().default(false),
    connectTimeoutMs: ms(10_000),
    headersTimeoutMs: ms(30_000),
    bodyTimeoutMs: ms(60_000),
    keepAliveTimeoutMs: ms(30_000),
    maxConnectionsPerOrigin: z.number().int().positive().default(128),
  }).strict().default({ insecure: false, connectTimeoutMs: 10_000, headersTimeoutMs: 30_000, bodyTimeoutMs: 60_000, keepAliveTimeoutMs: 30_000, maxConnectionsPerOrigin: 128 }),
  via: z.object({
    enabled: z.boolean().default(true),
    /** The received-by token in Via; also how forwarding loops are detected. */
    pseudonym: z.string().regex(/^[A-Za-z0-9._-]+$/).default('portico'),
  }).strict().default({ enabled: true, pseudonym: 'portico' }),
  server: z.object({
    headersTimeoutMs: ms(30_000),
    requestTimeoutMs: ms(300_000),
    keepAliveTimeoutMs: ms(5_000),
    maxHeaderBytes: bytes(16 * 1024),
    maxConnections: z.number().int().positive().default(10_000),
    /**
     * Who parses client connections on the proxy's port: `express` (raw handles, body-less absolute-form requests
     * served directly, anything else handed to node:http) or `node` (node:http for everything).
     */
    engine: z.enum(['express', 'node']).default('express'),
    ...frontDoorLimitFields,
  }).strict().default({ headersTimeoutMs: 30_000, requestTimeoutMs: 300_000, keepAliveTimeoutMs: 5_000, maxHeaderBytes: 16 * 1024, maxConnections: 10_000, engine: 'express', ...FRONT_DOOR_LIMIT_DEFAULTS }),
  tunnel: z.object({
    connectTimeoutMs: ms(10_000),
    /** A blind tunnel with no traffic either way for this long is closed. */
    idleTimeoutMs: ms(300_000),
    /** Time for the client to start TLS inside an intercepted tunnel. */
    handshakeTimeoutMs: ms(10_000),
    /** Concurrent CONNECT tunnels (blind and intercepted), all clients together and per client address; beyond: 503. */
    maxTunnels: z.number().int().positive().default(5000),
    maxTunnelsPerClient: z.number().int().positive().default(256),
  }).strict().default({ connectTimeoutMs: 10_000, idleTimeoutMs: 300_000, handshakeTimeoutMs: 10_000, maxTunnels: 5000, maxTunnelsPerClient: 256 }),
  /**
   * Host routes (chain mode): plain-HTTP requests for these hosts go to `to`, whatever DNS says. A route is trusted
   * configuration: its address skips the SSRF guard (that is how a forward proxy reaches a reverse proxy on loopback);
   * requests matching no route are guarded as always.
   */
  routes: z.array(z.object({ host: stringList, to: listenSchema }).strict()).default([]),
  /** One id followed through the chain: kept when a request carries one, else this hop's flow id is added. */
  requestId: z.object({
    header: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/).default('X-Request-Id'),
    /** Add the header when absent: on every request, only on routed ones (not sent to the internet), or never. */
    add: z.enum(['always', 'routed', 'never']).default('routed'),
  }).strict().default({ header: 'X-Request-Id', add: 'routed' }),
  policy: policySchema,
  anonymize: anonymizeSchema,
  shutdown: z.object({ graceMs: ms(10_000) }).strict().default({ graceMs: 10_000 }),
  cache: cacheSchema,
  /** `--workers N|auto`: worker processes sharing the listen socket (src/cluster/). */
  cluster: clusterSchema,
  log: logSchema,
  admin: adminSchema,
}).strict();

export type ForwardConfigInput = z.input<typeof forwardConfigSchema>;
export type ForwardConfig = z.output<typeof forwardConfigSchema>;
