import { z } from 'zod';

const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const oneOrMany = z.union([z.string(), z.array(z.string()).min(1)]).transform((v) => (typeof v === 'string' ? [v] : v));

/** Per-route authentication: HTTP Basic against an htpasswd file, or a bearer JWT (HS256 / RS256). */
export const authSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('basic'),
    htpasswd: z.string().min(1),
    realm: z.string().default('portico'),
    /** Pass Authorization on to the backend; by default it is removed once verified (the backend never sees passwords). */
    forwardCredentials: z.boolean().default(false),
  }).strict(),
  z.object({
    type: z.literal('jwt'),
    secret: z.string().optional(),
    secretFile: z.string().optional(),
    publicKeyFile: z.string().optional(),
    issuer: oneOrMany.optional(),
    audience: oneOrMany.optional(),
    clockSkewSec: z.number().int().nonnegative().max(3600).default(30),
    requireExp: z.boolean().default(true),
    realm: z.string().default('portico'),
    forwardCredentials: z.boolean().default(true),
  }).strict().refine((j) => [j.secret, j.secretFile, j.publicKeyFile].some((x) => x !== undefined),
    { message: 'jwt needs secret or secretFile (HS256) and/or publicKeyFile (RS256)' })
    .refine((j) => j.secret === undefined || j.secretFile === undefined, { message: 'give secret or secretFile, not both' }),
]);

const rlRedisDefaults = { namespace: 'portico-rl:', opTimeoutMs: 50, failureThreshold: 3, probeIntervalMs: 1000 };

/** Per-route token bucket: per client IP or per header value; in this process, or shared through Redis. */
export const rateLimitSchema = z.object({
  /** Sustained requests per second per key. */
  ratePerSecond: z.number().positive(),
  /** Bucket size: requests allowed at once after an idle period (default: one second's worth, at least 1). */
  burst: z.number().int().positive().optional(),
  key: z.string().regex(/^(ip|header:.+)$/, 'expected ip or header:NAME')
    .refine((k) => k === 'ip' || token.test(k.slice(7)), 'header name is not a valid field name').default('ip'),
  /** memory (per instance) or redis://HOST:PORT[/DB] (shared by every instance using it). */
  store: z.string().refine((s) => s === 'memory' || /^rediss?:\/\/[^/,]+(\/\d+)?\/?$/.test(s), 'expected memory or redis://HOST:PORT[/DB]')
    .default('memory'),
  /** While Redis cannot answer: allow (fail open, logged), local (per-instance buckets) or deny (429). */
  onStoreDown: z.enum(['allow', 'local', 'deny']).default('allow'),
  /** Buckets kept per instance (LRU beyond it). */
  maxKeys: z.number().int().positive().default(100_000),
  /** RateLimit-Policy / RateLimit on every response of the route (429s always carry them). */
  headers: z.boolean().default(true),
  redis: z.object({
    namespace: z.string().default(rlRedisDefaults.namespace),
    opTimeoutMs: z.number().int().positive().default(rlRedisDefaults.opTimeoutMs),
    failureThreshold: z.number().int().positive().default(rlRedisDefaults.failureThreshold),
    probeIntervalMs: z.number().int().nonnegative().default(rlRedisDefaults.probeIntervalMs),
  }).strict().default(rlRedisDefaults),
}).strict().transform((r) => ({ ...r, burst: r.burst ?? Math.max(1, Math.ceil(r.ratePerSecond)) }));

export type AuthConfig = z.output<typeof authSchema>;
export type RateLimitConfig = z.output<typeof rateLimitSchema>;
