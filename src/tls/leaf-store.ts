import { X509Certificate } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CaMaterial } from './ca-material.js';
import { errorCode, errorMessage, readSmallText, writeFileAtomic } from './files.js';
import { hostFileStem, type NormalizedHost } from './host.js';
import { DAY_MS } from './sign.js';

/** A leaf this close to expiry is re-issued rather than served: a client with a fast clock would reject it. */
export const RENEW_BEFORE_MS = DAY_MS;

const NOT_THERE = new Set(['ENOENT', 'ENOTDIR']);

export interface StoredLeaf { certPem: string; notAfter: number; serial: string }

export type StoreLog = (msg: string, err?: unknown) => void;

/**
 * The on-disk leaf cache (`<certs>/leaf/<host>.pem`), so a restart reads a file instead of signing. Only the
 * certificate is stored: the key is the shared `leaf.key`. A file is trusted only after the same checks a client
 * would make, since it may come from an older CA (after `ca init --force`), be truncated, or be about to expire.
 */
export class LeafDiskStore {
  private readonly pending = new Set<Promise<void>>();

  constructor(readonly dir: string, private readonly ca: CaMaterial, private readonly log: StoreLog) {}

  pathFor(host: NormalizedHost): string {
    return join(this.dir, `${hostFileStem(host.name)}.pem`);
  }

  /** The cached leaf for `host` if it is present and still good at `nowMs`, else undefined (never throws). */
  async read(host: NormalizedHost, nowMs: number): Promise<StoredLeaf | undefined> {
    const path = this.pathFor(host);
    let text: string;
    try {
      text = (await readSmallText(path)).text;
    } catch (err) {
      // Absent is the normal miss; an unusable folder is reported once per host by the write that follows.
      if (!NOT_THERE.has(errorCode(err) ?? '')) this.log(`cannot read cached leaf ${path}; issuing a new one`, err);
      return undefined;
    }
    try {
      return this.accept(new X509Certificate(text), host, nowMs);
    } catch (err) {
      this.log(`corrupt cached leaf ${path}; issuing a new one`, err);
      return undefined;
    }
  }

  /** Starts writing `certPem` in the background; a failure is logged, never thrown (the leaf is already served). */
  write(host: NormalizedHost, certPem: string): void {
    const path = this.pathFor(host);
    const job = mkdir(this.dir, { recursive: true })
      .then(() => writeFileAtomic(path, certPem, 0o644))
      .catch((err: unknown) => this.log(`cannot cache leaf ${path}: ${errorMessage(err)}`, err))
      .finally(() => this.pending.delete(job));
    this.pending.add(job);
  }

  /** Resolves once every write started so far has finished (for close() and tests). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  private accept(x509: X509Certificate, host: NormalizedHost, nowMs: number): StoredLeaf | undefined {
    const ca = this.ca.x509;
    if (!x509.checkIssued(ca) || !x509.verify(ca.publicKey)) return undefined;
    if (!x509.checkPrivateKey(this.ca.leafPrivateKey)) return undefined;
    if (!this.names(x509, host)) return undefined;
    const notAfter = Date.parse(x509.validTo);
    if (Date.parse(x509.validFrom) > nowMs || notAfter - nowMs <= RENEW_BEFORE_MS) return undefined;
    return { certPem: x509.toString(), notAfter, serial: x509.serialNumber };
  }

  /** The file name maps one-to-one to the host, but check the SAN anyway: the file may have been copied or edited. */
  private names(x509: X509Certificate, host: NormalizedHost): boolean {
    if (host.kind === 'dns') return x509.subjectAltName === `DNS:${host.name}`;
    return x509.checkIP(host.name) !== undefined;
  }
}
