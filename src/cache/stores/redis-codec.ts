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
