import { z } from 'zod';
import { parseBalance } from '../balance/spec.js';
import { clusterSchema } from '../cluster/config.js';
import { backendSchema } from '../config/backend-schema.js';
import { adminSchema, FRONT_DOOR_LIMIT_DEFAULTS, frontDoorLimitFields, logSchema } from '../config/schema.js';
import { reverseListenSchema } from './listen-schema.js';
import { routeStageFields } from './route-stage-schema.js';

const ms = z.number().int().nonnegative();
const positive = z.number().int().positive();

const balanceSchema = z.string().default('round-robin').transform((text, ctx) => {
  try { return parseBalance(text); } catch (err) { ctx.addIssue({ code: 'custom', message: (err as Error).message }); return z.NEVER; }
});

const poolSchema = z.object({
  backends: z.array(backendSchema).min(1),
  balance: balanceSchema,
  /** Active checks; off unless `path` (HTTP) or `kind: tcp` is given. */
  health: z.object({
    kind: z.enum(['http', 'tcp']).default('http'),
    path: z.string().startsWith('/').optional(),
    expectStatus: z.tuple([z.number().int(), z.number().int()]).default([200, 399]),
    intervalMs: positive.default(2_000),
    timeoutMs: positive.default(1_000),
    jitter: z.number().min(0).max(1).default(0.1),
    rise: positive.default(2),
    fall: positive.default(3),
  }).strict().optional(),
  outlier: z.object({
    consecutiveFailures: z.number().int().nonnegative().default(5),
    baseEjectionMs: ms.default(30_000),
    maxEjectionMs: ms.default(300_000),
    /** Each period a backend spends up and not ejected takes one off its ejection count (Envoy's interval; 0: never). */
    ejectionDecayMs: ms.default(10_000),
    maxEjectionPercent: z.number().min(0).max(100).default(10),
    panicThresholdPercent: z.number().min(0).max(100).default(50),
  }).strict().optional(),
  retry: z.object({
    maxAttempts: positive.default(3),
    budgetPercent: z.number().min(0).max(100).default(20),
    minRetryConcurrency: z.number().int().nonnegative().default(3),
    backoffBaseMs: ms.default(25),
    backoffMaxMs: ms.default(250),
    /** Request bodies up to this size are kept so a POST/PUT can go to another backend when none was reached (0: never). */
    replayBodyBytes: z.number().int().nonnegative().max(16 * 1024 * 1024).default(64 * 1024),
  }).strict().optional(),
  connections: z.object({
    max: positive.default(128),
    keepAliveTimeoutMs: ms.default(30_000),
    connectTimeoutMs: positive.default(3_000),
    headersTimeoutMs: positive.default(30_000),
    bodyTimeoutMs: positive.default(60_000),
    queueTimeoutMs: ms.default(5_000),
  }).strict().optional(),
  slowStart: z.object({ windowMs: ms.default(0), aggression: z.number().positive().default(1) }).strict().optional(),
  sticky: z.object({ cookie: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/) }).strict().optional(),
}).strict();

const routeSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9._:-]+$/).optional(),
  host: z.union([z.string(), z.array(z.string())]).transform((h) => (typeof h === 'string' ? [h] : h)).optional(),
  path: z.string().startsWith('/').optional(),
  pathGlob: z.string().optional(),
  pathRegex: z.string().optional(),
  methods: z.array(z.string()).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  cookies: z.record(z.string(), z.string()).optional(),
  pool: z.string(),
  stripPrefix: z.union([z.boolean(), z.string().startsWith('/')]).optional(),
  setHeaders: z.record(z.string(), z.string()).optional(),
  removeHeaders: z.array(z.string()).optional(),
  canary: z.object({
    pool: z.string(),
    percent: z.number().min(0).max(100),
    sticky: z.string().regex(/^(ip|cookie:.+|header:.+)$/).optional(),
    overrideHeader: z.string().default('X-Canary'),
  }).strict().optional(),
  /** Per-route stages: rateLimit → auth → policy → cache, run after routing (route-stages.ts). */
  ...routeStageFields,
}).strict();

export const reverseConfigSchema = z.object({
  /** One address, `{address, tls}` (HTTPS, SNI certificates), or a list of them; the first is the primary. */
  listen: reverseListenSchema.default([{ host: '127.0.0.1', port: 8081 }]),
  pools: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/), poolSchema).refine((p) => Object.keys(p).length > 0, 'at least one pool'),
  routes: z.array(routeSchema).default([]),
  /** Peers whose X-Forwarded-For / Forwarded are kept and extended (everyone else's are replaced). */
  trustedProxies: z.array(z.string()).default([]),
  exposeBackend: z.boolean().default(false),
  via: z.object({ enabled: z.boolean().default(true), pseudonym: z.string().default('portico') }).strict().default({ enabled: true, pseudonym: 'portico' }),
  server: z.object({
    headersTimeoutMs: positive.default(30_000),
    requestTimeoutMs: positive.default(300_000),
    keepAliveTimeoutMs: positive.default(5_000),
    maxHeaderBytes: positive.default(16_384),
    /** WebSocket / Upgrade tunnels idle this long are closed. */
    tunnelIdleTimeoutMs: positive.default(300_000),
    /** Open client connections in total (each client address: maxConnectionsPerClient); beyond: 503 and close. */
    maxConnections: positive.default(10_000),
    /**
     * Who parses plain-HTTP client connections: `express` (raw handles, body-less requests served directly, anything
     * else handed to node:http) or `node` (node:http for everything). HTTPS listeners always use node:https.
     */
    engine: z.enum(['express', 'node']).default('express'),
    ...frontDoorLimitFields,
  }).strict().default({ headersTimeoutMs: 30_000, requestTimeoutMs: 300_000, keepAliveTimeoutMs: 5_000, maxHeaderBytes: 16_384,
    tunnelIdleTimeoutMs: 300_000, maxConnections: 10_000, engine: 'express', ...FRONT_DOOR_LIMIT_DEFAULTS }),
  shutdown: z.object({ graceMs: ms.default(10_000) }).strict().default({ graceMs: 10_000 }),
  /** `--workers N|auto`: worker processes sharing the listen socket (src/cluster/); health state is per worker. */
  cluster: clusterSchema,
  log: logSchema,
  admin: adminSchema,
}).strict().superRefine((cfg, ctx) => {
  const ids = new Set<string>();
  cfg.routes.forEach((r, i) => {
    // Route ids name flows, per-route stages and their Redis keys: two routes must not share one.
    const id = r.id ?? `route-${i + 1}`;
    if (ids.has(id)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'id'], message: `route id "${id}" is used twice` });
    ids.add(id);
    for (const [key, pool] of [['pool', r.pool], ['canary.pool', r.canary?.pool]] as const) {
      if (pool !== undefined && !(pool in cfg.pools)) ctx.addIssue({ code: 'custom', path: ['routes', i, key], message: `unknown pool "${pool}"` });
    }
  });
});

export type ReverseConfig = z.output<typeof reverseConfigSchema>;
export type ReversePoolConfig = ReverseConfig['pools'][string];
export type ReverseRouteConfig = ReverseConfig['routes'][number];
