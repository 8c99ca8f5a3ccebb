import type { CacheEntry } from '../store.js';

/** The small JSON record kept under the entry's key; the body lives in raw-Buffer chunk keys next to it. */
export interface HeadRecord {
  head: CacheEntry['head'];
  requestTime: number;
  responseTime: number;
  vary: CacheEntry['vary'];
  /** Random per write, so a reader never mixes chunks of two different writes. */
  id: string;
  chunks: number;
  size: number;
}

/**
 * Chunk keys share the entry key as prefix, so purging a URL's or a host's prefix removes its bodies too. The `{id}`
 * hash tag puts all chunks of one write in one Redis Cluster slot, so a single MGET reads them.
 */
export function chunkKey(key: string, id: string, index: number): string {
  return `${key}#~body:{${id}}:${index}`;
}

/** `redis-cluster://h1:p1,h2:p2` → seed node URLs; undefined for a single-node `redis://` URL. */
export function clusterSeeds(url: string): string[] | undefined {
  const m = /^redis(s?)-cluster:\/\/(.+?)\/?$/.exec(url);
  if (!m) return undefined;
  return (m[2] as string).split(',').map((hostPort) => `redis${m[1]}://${hostPort.trim()}`);
}

/** A parsed `redis+sentinel://` URL: the sentinels to ask, the monitored master's name, the database. */
export interface SentinelTarget {
  readonly name: string;
  readonly sentinels: Array<{ host: string; port: number }>;
  readonly database?: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
}

const SENTINEL_URL = /^redis(s?)\+sentinel:\/\/(?:([^@/]*)@)?([^/@]+)\/([^/]+)(?:\/(\d+))?\/?$/;
const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/;

/**
 * `redis+sentinel://[user:pass@]host:port,host:port/mastername[/db]` (rediss+sentinel for TLS) → what node-redis'
 * createSentinel needs; a sentinel without a port is on 26379. Undefined for any other URL; throws on a malformed one.
 */
export function sentinelTarget(url: string): SentinelTarget | undefined {
  if (!/^rediss?\+sentinel:/.test(url)) return undefined;
  const m = SENTINEL_URL.exec(url);
  if (!m) throw new Error(`bad Redis Sentinel URL ${JSON.stringify(url)}: expected redis+sentinel://HOST:PORT[,HOST:PORT…]/MASTERNAME[/DB]`);
  const sentinels = (m[3] as string).split(',').map((part) => {
    const hp = HOST_PORT.exec(part.trim());
    const port = Number(hp?.[3] ?? 26379);
    if (!hp || port < 1 || port > 65535) throw new Error(`bad sentinel address ${JSON.stringify(part)} in ${JSON.stringify(url)}`);
    return { host: (hp[1] ?? hp[2]) as string, port };
  });
  const target: { -readonly [K in keyof SentinelTarget]: SentinelTarget[K] } = { name: decodeURIComponent(m[4] as string), sentinels, tls: m[1] === 's' };
  if (m[5] !== undefined) target.database = Number(m[5]);
  if (m[2]) {
    const [user, ...rest] = m[2].split(':');
    if (rest.length > 0) target.password = decodeURIComponent(rest.join(':'));
    if (user) target.username = decodeURIComponent(user);
  }
  return target;
}

/** A view of the body as Buffers of at most chunkBytes, without copying (never Uint8Array through keyv's JSON). */
export function splitBody(body: Uint8Array, chunkBytes: number): Buffer[] {
  const whole = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const out: Buffer[] = [];
  for (let off = 0; off < whole.length; off += chunkBytes) out.push(whole.subarray(off, Math.min(off + chunkBytes, whole.length)));
  return out;
}

export function toRecord(entry: CacheEntry, id: string, chunks: number): HeadRecord {
  return {
    head: entry.head, requestTime: entry.requestTime, responseTime: entry.responseTime, vary: entry.vary,
    id, chunks, size: entry.body.byteLength,
  };
}

/** Reassembles an entry; undefined when a chunk is missing or the sizes disagree (a torn or expired write). */
export function fromRecord(record: HeadRecord, parts: ReadonlyArray<Buffer | null>): CacheEntry | undefined {
  const buffers: Buffer[] = [];
  for (const p of parts) {
    if (!Buffer.isBuffer(p)) return undefined;
    buffers.push(p);
  }
  const body = buffers.length === 1 ? (buffers[0] as Buffer) : Buffer.concat(buffers);
  if (body.length !== record.size) return undefined;
  return { head: record.head, body, requestTime: record.requestTime, responseTime: record.responseTime, vary: record.vary };
}

/** SCAN MATCH treats *?[]\ as glob syntax; a literal prefix must escape them. */
export function globEscape(prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, '\\$&');
}
