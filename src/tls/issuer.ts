import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../core/clock.js';
import type { CaMaterial } from './ca-material.js';
import { normalizeHost, type NormalizedHost } from './host.js';
import { buildLeaf, leafTemplate, MAX_LEAF_VALIDITY_DAYS, type LeafTemplate } from './leaf.js';
import { LeafDiskStore, RENEW_BEFORE_MS, type StoredLeaf, type StoreLog } from './leaf-store.js';
import { TurnQueue } from './turns.js';

export interface CertificateIssuerOptions {
  /** Secure contexts kept in memory (config `mitm.certCacheSize`). */
  cacheSize: number;
  /** Leaf lifetime (config `mitm.leafValidityDays`), 1..397. */
  validityDays: number;
  /** Where issued leaves are cached on disk; default `<certs>/leaf`. */
  diskDir?: string;
  clock: Clock;
  /** Receives non-fatal problems (an unwritable or corrupt cache file). */
  log?: StoreLog;
}

export interface IssuedCertificate { certPem: string; keyPem: string; notAfter: number }
export interface IssuerStats { issued: number; memoryHits: number; diskHits: number }

interface CachedContext { context: SecureContext; notAfter: number }

/**
 * Issues and caches the leaf certificates presented to intercepted clients. Every leaf shares one key
 * (`leaf.key`), so issuing is a forge TBS build plus one native RSA signature instead of a 100-600 ms key
 * generation per host (LIBRARIES.md §2.4). Lookups go memory LRU → disk → issue; all state lives on the instance.
 */
export class CertificateIssuer {
  private readonly template: LeafTemplate;
  private readonly memory: LRUCache<string, CachedContext>;
  /** One in-flight lookup per host, so N simultaneous handshakes for a new host issue one certificate. */
  private readonly inflight = new Map<string, Promise<SecureContext>>();
  private readonly disk: LeafDiskStore;
  /** Signing and context building, one per loop turn, so a burst of new hosts does not starve other sockets. */
  private readonly cpu = new TurnQueue();
  private readonly counters: IssuerStats = { issued: 0, memoryHits: 0, diskHits: 0 };

  constructor(private readonly ca: CaMaterial, private readonly opts: CertificateIssuerOptions) {
    if (!Number.isInteger(opts.cacheSize) || opts.cacheSize < 1) throw new RangeError(`cacheSize must be a positive integer, got ${opts.cacheSize}`);
    if (!Number.isInteger(opts.validityDays) || opts.validityDays < 1 || opts.validityDays > MAX_LEAF_VALIDITY_DAYS) {
      throw new RangeError(`validityDays must be an integer in 1..${MAX_LEAF_VALIDITY_DAYS}, got ${opts.validityDays}`);
    }
    this.template = leafTemplate(ca);
    this.memory = new LRUCache({ max: opts.cacheSize });
    this.disk = new LeafDiskStore(opts.diskDir ?? join(ca.dir, 'leaf'), ca, opts.log ?? (() => undefined));
  }

  /** Signs a fresh leaf for `host` (synchronous, about half a millisecond). Throws on an invalid host. */
  issue(host: string): IssuedCertificate {
    const leaf = this.issueFor(normalizeHost(host));
    return { certPem: leaf.certPem, keyPem: this.ca.leafKeyPem, notAfter: leaf.notAfter };
  }

  /** The TLS context for `host`, for an SNI callback: memory, then the disk cache, then a new leaf. */
  secureContext(host: string): Promise<SecureContext> {
    let normalized: NormalizedHost;
    try {
      normalized = normalizeHost(host);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const cached = this.fromMemory(normalized.name);
    if (cached) return Promise.resolve(cached);
    const running = this.inflight.get(normalized.name);
    if (running) return running;
    const lookup = this.load(normalized).finally(() => this.inflight.delete(normalized.name));
    this.inflight.set(normalized.name, lookup);
    return lookup;
  }

  stats(): IssuerStats {
    return { ...this.counters };
  }

  /** Waits for the background disk writes; the issuer holds no timers or sockets. */
  async close(): Promise<void> {
    await Promise.all(this.inflight.values()).catch(() => undefined);
    await this.disk.flush();
  }

  private fromMemory(name: string): SecureContext | undefined {
    const entry = this.memory.get(name);
    if (!entry) return undefined;
    if (entry.notAfter - this.opts.clock.now() <= RENEW_BEFORE_MS) {
      this.memory.delete(name);
      return undefined;
    }
    this.counters.memoryHits++;
    return entry.context;
  }

  private async load(host: NormalizedHost): Promise<SecureContext> {
    const stored = await this.disk.read(host, this.opts.clock.now());
    return this.cpu.run(() => this.contextFor(host, stored));
  }

  private contextFor(host: NormalizedHost, stored: StoredLeaf | undefined): SecureContext {
    if (stored) this.counters.diskHits++;
    const leaf = stored ?? this.issueFor(host);
    if (!stored) this.disk.write(host, leaf.certPem);
    const context = createSecureContext({ key: this.ca.leafKeyPem, cert: leaf.certPem });
    this.memory.set(host.name, { context, notAfter: leaf.notAfter });
    return context;
  }

  private issueFor(host: NormalizedHost): { certPem: string; notAfter: number } {
    const leaf = buildLeaf(this.template, host, this.opts.clock.now(), this.opts.validityDays);
    this.counters.issued++;
    return leaf;
  }
}
