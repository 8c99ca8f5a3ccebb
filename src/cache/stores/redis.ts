import { randomBytes } from 'node:crypto';
import KeyvRedis, { createSentinel } from '@keyv/redis';
import { Keyv } from 'keyv';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import { Breaker } from '../breaker.js';
import type { CacheEntry, CacheStore, PurgeScope } from '../store.js';
import { chunkKey, clusterSeeds, fromRecord, globEscape, sentinelTarget, splitBody, toRecord, type HeadRecord, type SentinelTarget } from './redis-codec.js';
import { withTimeout } from './timeout.js';

export interface RedisStoreOptions {
  /**
   * redis://host:port[/db] for one node, redis-cluster://host:port[,host:port…] for a Redis Cluster,
   * redis+sentinel://host:port[,host:port…]/mastername[/db] for the master that Redis Sentinel names.
   */
  readonly url: string;
  /** Prefix of every key, e.g. `portico-cache:`; tests use a random one. */
  readonly namespace: string;
  /** Budget of each get/set/delete; past it the operation counts as failed (default 50 ms). */
  readonly opTimeoutMs: number;
  /** Extra budget per MiB of body moved, so a large entry does not time out (and open the breaker) on a healthy Redis. */
  readonly bodyMsPerMiB: number;
  /** Budget of a purge (SCAN + UNLINK over the whole keyspace). */
  readonly purgeTimeoutMs: number;
  /** Bodies are split into raw-Buffer keys of at most this many bytes. */
  readonly chunkBytes: number;
  readonly failureThreshold: number;
  readonly probeIntervalMs: number;
  readonly clock: Clock;
  readonly log: Logger;
}

/** The Buffer-mapped view of the client (RESP blob strings come back as Buffers: 36 is RESP_TYPES.BLOB_STRING). */
type RawClient = { get(k: string): Promise<unknown>; mGet(k: string[]): Promise<unknown[]>; set(k: string, v: Buffer, o: { PX: number }): Promise<unknown> };
interface PlainClient {
  /** Single-node clients; cluster clients only have isOpen. */
  isReady?: boolean;
  isOpen: boolean;
  /** Cluster clients: the masters, each scanned on its own. */
  masters?: unknown[];
  nodeClient?(master: unknown): PlainClient | Promise<PlainClient>;
  withTypeMapping(m: Record<number, unknown>): unknown;
  /** Single-node and cluster node clients; a sentinel client has only the plain SCAN command. */
  scanIterator?(o: { MATCH: string; COUNT: number }): AsyncIterable<string[]>;
  scan(cursor: string, o: { MATCH: string; COUNT: number }): Promise<{ cursor: string; keys: string[] }>;
  unlink(keys: string[]): Promise<number>;
  /** String replies (heads are JSON text); `GET: true` returns the replaced value (Redis ≥ 6.2). */
  set(k: string, v: string, o: { PX: number; GET: true }): Promise<string | null>;
  getDel(k: string): Promise<string | null>;
  destroy(): void;
}

/**
 * A CacheStore on Redis, set up as LIBRARIES §3.4 recommends: no offline queue, bounded connect and socket timeouts,
 * backoff reconnects; head records through keyv (no double prefix: useKeyPrefix false, our own namespace), bodies as
 * raw Buffer chunks through the client; every operation raced against its budget; a breaker that turns an outage into
 * immediate misses, logs once when it opens and once when a probe closes it.
 */
export function createRedisStore(opts: RedisStoreOptions): RedisCacheStore {
  return new RedisCacheStore(opts);
}

export class RedisCacheStore implements CacheStore {
  private readonly adapter: KeyvRedis<HeadRecord>;
  private readonly kv: Keyv<HeadRecord>;
  private readonly connecting: Promise<unknown>;
  private readonly breaker: Breaker;
  private raw: RawClient | undefined;
  /** Sentinel only: a second client for body chunks (see bufferSentinel). */
  private readonly rawSentinel: SentinelClient | undefined;

  constructor(private readonly opts: RedisStoreOptions) {
    const sentinel = sentinelTarget(opts.url);
    const options = sentinel ? sentinelOptions(sentinel) : undefined;
    this.adapter = new KeyvRedis<HeadRecord>(options ?? connectOptions(opts.url), { throwOnErrors: true, throwOnConnectError: false });
    this.rawSentinel = options && bufferSentinel(options);
    // namespace: undefined explicitly: otherwise Keyv hands its default 'keyv' to the adapter, which then stores every
    // head as `keyv::<namespace><key>`, out of reach of purges by namespace (LIBRARIES §3.1).
    this.kv = new Keyv<HeadRecord>({ store: this.adapter, useKeyPrefix: false, namespace: undefined, throwOnErrors: true });
    this.adapter.on('error', () => undefined); // outages surface through the breaker, not per event (7-20 per outage)
    this.kv.on('error', () => undefined);
    this.connecting = Promise.all([this.adapter.getClient(), this.rawSentinel?.connect()]).catch(() => undefined);
    this.breaker = new Breaker({ failureThreshold: opts.failureThreshold, probeIntervalMs: opts.probeIntervalMs });
  }

  /** Two bounded steps: the head record, then the body chunks with a budget that grows with the body's size. */
  async get(key: string): Promise<CacheEntry | undefined> {
    const record = await this.guarded('get', () => this.kv.get(this.ns(key)), undefined);
    if (!record) return undefined;
    if (record.chunks === 0) return fromRecord(record, []);
    const keys = Array.from({ length: record.chunks }, (_, i) => this.ns(chunkKey(key, record.id, i)));
    const parts = await this.guarded('get', () => this.rawClient().mGet(keys) as Promise<Array<Buffer | null>>, undefined, this.budget(record.size));
    return parts && fromRecord(record, parts);
  }

  /**
   * Chunks first, the head record last: a reader never sees a head whose body is not there yet. The head is swapped
   * atomically (SET … GET), so whichever write replaced a head, and only that one, unlinks the replaced chunks: an
   * overwrite leaves no orphans, even when two instances write the same key at once.
   */
  set(key: string, entry: CacheEntry, ttlMs: number): Promise<void> {
    return this.guarded('set', async () => {
      const id = randomBytes(6).toString('hex');
      const chunks = splitBody(entry.body, this.opts.chunkBytes);
      const px = Math.max(1, Math.ceil(ttlMs));
      await Promise.all(chunks.map((c, i) => this.rawClient().set(this.ns(chunkKey(key, id, i)), c, { PX: px })));
      const head = await this.serialize(toRecord(entry, id, chunks.length));
      await this.dropChunks(key, await this.client().set(this.ns(key), head, { PX: px, GET: true }));
    }, undefined, this.budget(entry.body.byteLength));
  }

  /** Removes the head record (GETDEL) and then the chunks it named. */
  delete(key: string): Promise<void> {
    return this.guarded('delete', async () => { await this.dropChunks(key, await this.client().getDel(this.ns(key))); }, undefined);
  }

  /**
   * SCAN (on the plain client: a Buffer-mapped one never ends the cursor loop) + UNLINK. A cluster is scanned master by
   * master, and keys are unlinked one by one there (a multi-key UNLINK across slots is a CROSSSLOT error).
   */
  purge(scope: PurgeScope): Promise<number> {
    return this.guarded('purge', async () => {
      const match = `${globEscape(this.opts.namespace)}${scope.kind === 'all' ? '' : globEscape(scope.prefix)}*`;
      const root = this.client();
      if (!root.masters || !root.nodeClient) return scanUnlink(root, match, false);
      let n = 0;
      for (const master of root.masters) n += await scanUnlink(await root.nodeClient(master), match, true);
      return n;
    }, 0, this.opts.purgeTimeoutMs);
  }

  available(): boolean {
    return !this.breaker.open;
  }

  /** Waits (bounded) for the first connection; true when the client is ready. */
  async ready(timeoutMs: number): Promise<boolean> {
    await withTimeout(this.connecting, timeoutMs).catch(() => undefined);
    return this.isReady();
  }

  async close(): Promise<void> {
    const raw = this.rawSentinel;
    if (raw) await withTimeout(raw.close(), 1000).catch(() => raw.destroy().catch(() => undefined));
    await withTimeout(this.kv.disconnect(), 1000).catch(() => {
      try {
        this.client().destroy(); // a hung server never answers QUIT
      } catch {
        // already closed by its socket timeout
      }
    });
  }

  private async guarded<T>(name: string, op: () => Promise<T>, fallback: T, ms = this.opts.opTimeoutMs): Promise<T> {
    if (!this.breaker.allow(this.opts.clock.monotonic())) return fallback;
    try {
      if (!this.isReady()) throw new Error('redis client is not connected');
      const value = await withTimeout(op(), ms);
      if (this.breaker.success() === 'closed') this.opts.log.warn({ store: 'redis' }, 'cache store reachable again; caching resumes');
      return value;
    } catch (err) {
      if (this.breaker.failure(this.opts.clock.monotonic()) === 'opened') {
        this.opts.log.warn({ store: 'redis', op: name, err: (err as Error).message }, 'cache store unreachable; requests bypass the cache until it is back');
      }
      return fallback;
    }
  }

  /** The head record in keyv's own format, so kv.get reads it (Redis PX expires it; keyv's `expires` stays unset). */
  private async serialize(record: HeadRecord): Promise<string> {
    const data = { value: record, expires: undefined };
    return this.kv.serialize ? await this.kv.serialize(data) : JSON.stringify(data);
  }

  /** Unlinks the chunks of a replaced or deleted head (one UNLINK: the `{id}` hash tag keeps them in one slot). */
  private async dropChunks(key: string, previous: string | null): Promise<void> {
    if (typeof previous !== 'string') return;
    const parsed = this.kv.deserialize ? await this.kv.deserialize<HeadRecord>(previous) : undefined;
    const old = parsed?.value;
    if (!old || typeof old.id !== 'string' || !Number.isInteger(old.chunks) || old.chunks <= 0) return;
    await this.client().unlink(Array.from({ length: old.chunks }, (_, i) => this.ns(chunkKey(key, old.id, i))));
  }

  private isReady(): boolean {
    const c = this.client();
    return (c.isReady ?? c.isOpen) && (this.rawSentinel?.isReady ?? true);
  }

  /** The budget of an operation that moves `bytes` of body. */
  private budget(bytes: number): number {
    return this.opts.opTimeoutMs + Math.ceil((bytes / 1_048_576) * this.opts.bodyMsPerMiB);
  }

  private ns(key: string): string {
    return `${this.opts.namespace}${key}`;
  }

  private client(): PlainClient {
    return this.adapter.client as unknown as PlainClient;
  }

  /** The Buffer-mapped view, for GET/MGET/SET of body chunks only. */
  private rawClient(): RawClient {
    this.raw ??= (this.rawSentinel ?? this.client().withTypeMapping({ 36: Buffer })) as RawClient;
    return this.raw;
  }
}

const SOCKET = { connectTimeout: 500, socketTimeout: 2000, reconnectStrategy: (n: number) => Math.min(100 * 2 ** n, 2000) };

/** Client options per LIBRARIES §3.4 (no offline queue, bounded connect/socket, backoff), single node or cluster. */
function connectOptions(url: string): ConstructorParameters<typeof KeyvRedis>[0] {
  const seeds = clusterSeeds(url);
  if (!seeds) return { url, disableOfflineQueue: true, pingInterval: 1000, socket: SOCKET };
  return { rootNodes: seeds.map((u) => ({ url: u })), defaults: { disableOfflineQueue: true, socket: SOCKET } };
}

type SentinelOptions = Parameters<typeof createSentinel>[0];

/** The same bounds for the master that Sentinel names (one pooled connection, like the single-node client). */
function sentinelOptions(t: SentinelTarget): SentinelOptions {
  const socket = t.tls ? { ...SOCKET, tls: true as const } : SOCKET;
  const auth = { ...(t.username !== undefined ? { username: t.username } : {}), ...(t.password !== undefined ? { password: t.password } : {}) };
  return {
    name: t.name, sentinelRootNodes: t.sentinels, masterPoolSize: 1,
    nodeClientOptions: { disableOfflineQueue: true, socket, ...auth, ...(t.database !== undefined ? { database: t.database } : {}) },
    sentinelClientOptions: { socket: SOCKET },
  };
}

type SentinelClient = ReturnType<typeof createSentinel>;

/**
 * A Sentinel's withTypeMapping() changes the type mapping of the sentinel object it was called on (node-redis 5.12:
 * `_commandOptionsProxy` writes through `_self`), so the head client would start returning Buffers to keyv. Body
 * chunks go through a second sentinel client created with the Buffer mapping instead.
 */
function bufferSentinel(options: SentinelOptions): SentinelClient {
  const client = createSentinel({ ...options, commandOptions: { typeMapping: { 36: Buffer } } });
  client.on('error', () => undefined); // surfaced through the breaker like the head client's
  return client;
}

async function scanUnlink(client: PlainClient, match: string, oneByOne: boolean): Promise<number> {
  let n = 0;
  for await (const keys of scanKeys(client, match)) {
    if (keys.length === 0) continue;
    if (!oneByOne) n += await client.unlink(keys);
    else for (const k of keys) n += await client.unlink([k]);
  }
  return n;
}

/** SCAN batches: the client's own iterator where it has one, else the cursor loop (a Sentinel client talks to its master). */
async function* scanKeys(client: PlainClient, match: string): AsyncIterable<string[]> {
  if (client.scanIterator) {
    yield* client.scanIterator({ MATCH: match, COUNT: 1000 });
    return;
  }
  let cursor = '0';
  do {
    const reply = await client.scan(cursor, { MATCH: match, COUNT: 1000 });
    cursor = String(reply.cursor);
    yield reply.keys;
  } while (cursor !== '0');
}
