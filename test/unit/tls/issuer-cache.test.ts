import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CaMaterial } from '../../../src/tls/ca.js';
import { CertificateIssuer, type CertificateIssuerOptions } from '../../../src/tls/issuer.js';
import { DAY_MS, freshCa, manualClock, removeDir, tempDir } from './fixtures.js';

let ca: CaMaterial;
let otherCa: CaMaterial;
const dirs: string[] = [];

beforeAll(async () => {
  [ca, otherCa] = await Promise.all([freshCa(), freshCa()]);
});
afterAll(async () => {
  await Promise.all([ca.dir, otherCa.dir, ...dirs].map(removeDir));
});

async function leafDir(): Promise<string> {
  const d = await tempDir('portico-leaf-');
  dirs.push(d);
  return d;
}

function make(diskDir: string, over: Partial<CertificateIssuerOptions> = {}, material: CaMaterial = ca): CertificateIssuer {
  return new CertificateIssuer(material, { cacheSize: 100, validityDays: 30, clock: manualClock(), diskDir, ...over });
}

async function serialOnDisk(diskDir: string, file: string): Promise<string> {
  return new X509Certificate(await readFile(join(diskDir, file))).serialNumber;
}

describe('CertificateIssuer memory cache', () => {
  it('returns the same context object for a host, counting hits', async () => {
    const i = make(await leafDir());
    const first = await i.secureContext('example.test');
    expect(await i.secureContext('EXAMPLE.test.')).toBe(first);
    expect(i.stats()).toEqual({ issued: 1, memoryHits: 1, diskHits: 0 });
    await i.close();
  });

  it('keeps at most cacheSize contexts (least recently used goes first)', async () => {
    const i = make(await leafDir(), { cacheSize: 2 });
    const a = await i.secureContext('a.test');
    await i.secureContext('b.test');
    await i.secureContext('a.test');
    await i.secureContext('c.test');
    expect(await i.secureContext('a.test')).toBe(a);
    await i.close();
    expect(i.stats().memoryHits).toBe(2);
    // b.test was evicted; it comes back from disk, not from a new signature.
    await i.secureContext('b.test');
    expect(i.stats()).toMatchObject({ issued: 3, diskHits: 1 });
  });

  it('issues once for many concurrent handshakes to one new host', async () => {
    const i = make(await leafDir());
    const contexts = await Promise.all(Array.from({ length: 20 }, () => i.secureContext('burst.test')));
    expect(new Set(contexts).size).toBe(1);
    expect(i.stats().issued).toBe(1);
    await i.close();
  });

  it('replaces a context whose leaf has a day or less left', async () => {
    const clock = manualClock();
    const i = make(await leafDir(), { clock, validityDays: 3 });
    const first = await i.secureContext('example.test');
    clock.advance(2 * DAY_MS + 60_000);
    expect(await i.secureContext('example.test')).not.toBe(first);
    expect(i.stats()).toMatchObject({ issued: 2, memoryHits: 0 });
    await i.close();
  });

  it('still issues while a test has faked the timers', async () => {
    const i = make(await leafDir());
    vi.useFakeTimers();
    try {
      await expect(i.secureContext('fake-timers.test')).resolves.toBeDefined();
    } finally {
      vi.useRealTimers();
    }
    await i.close();
  });

  it('rejects garbage host names without issuing', async () => {
    const i = make(await leafDir());
    await expect(i.secureContext('a b')).rejects.toThrow(/invalid host name/);
    await expect(i.secureContext('../../etc/passwd')).rejects.toThrow(/invalid host name/);
    expect(i.stats().issued).toBe(0);
  });
});

describe('CertificateIssuer disk cache', () => {
  it('writes leaf/<host>.pem at 0644 with no temp files left, and a second issuer reuses it', async () => {
    const d = await leafDir();
    const first = make(d);
    await first.secureContext('example.test');
    await first.secureContext('::1');
    await first.close();
    expect((await readdir(d)).sort()).toEqual(['_3a_3a1.pem', 'example.test.pem']);
    expect((await stat(join(d, 'example.test.pem'))).mode & 0o777).toBe(0o644);
    const serial = await serialOnDisk(d, 'example.test.pem');

    const second = make(d);
    await second.secureContext('example.test');
    await second.secureContext('[::1]');
    await second.close();
    expect(second.stats()).toEqual({ issued: 0, memoryHits: 0, diskHits: 2 });
    expect(await serialOnDisk(d, 'example.test.pem')).toBe(serial);
  });

  it('defaults to <certs>/leaf', async () => {
    const i = new CertificateIssuer(ca, { cacheSize: 10, validityDays: 30, clock: manualClock() });
    await i.secureContext('default-dir.test');
    await i.close();
    expect(await readdir(join(ca.dir, 'leaf'))).toContain('default-dir.test.pem');
  });

  it('ignores a cached leaf signed by another CA and replaces it', async () => {
    const d = await leafDir();
    const foreign = make(d, {}, otherCa);
    await foreign.secureContext('example.test');
    await foreign.close();
    const foreignSerial = await serialOnDisk(d, 'example.test.pem');

    const mine = make(d);
    await mine.secureContext('example.test');
    await mine.close();
    expect(mine.stats()).toMatchObject({ issued: 1, diskHits: 0 });
    const onDisk = new X509Certificate(await readFile(join(d, 'example.test.pem')));
    expect(onDisk.serialNumber).not.toBe(foreignSerial);
    expect(onDisk.verify(ca.x509.publicKey)).toBe(true);
  });

  it('ignores a cached leaf with a day or less left', async () => {
    const d = await leafDir();
    const clock = manualClock();
    const old = make(d, { clock, validityDays: 2 });
    await old.secureContext('example.test');
    await old.close();
    clock.advance(DAY_MS + 60_000);
    const later = make(d, { clock });
    await later.secureContext('example.test');
    expect(later.stats()).toMatchObject({ issued: 1, diskHits: 0 });
    await later.close();
  });

  it('ignores a cached leaf for another name, and a corrupt one (logging it)', async () => {
    const d = await leafDir();
    const seed = make(d);
    await seed.secureContext('one.test');
    await seed.close();
    await writeFile(join(d, 'two.test.pem'), await readFile(join(d, 'one.test.pem')));
    await writeFile(join(d, 'three.test.pem'), '-----BEGIN CERTIFICATE-----\ntruncated');
    const logged: string[] = [];
    const i = make(d, { log: (msg) => logged.push(msg) });
    await i.secureContext('two.test');
    await i.secureContext('three.test');
    await i.close();
    expect(i.stats()).toMatchObject({ issued: 2, diskHits: 0 });
    expect(logged).toEqual([expect.stringMatching(/corrupt cached leaf .*three\.test\.pem/)]);
  });

  it('logs a failed write and still serves the context', async () => {
    const blocker = join(await leafDir(), 'a-file');
    await writeFile(blocker, 'not a folder');
    const logged: Array<{ msg: string; err: unknown }> = [];
    const i = make(join(blocker, 'leaf'), { log: (msg, err) => logged.push({ msg, err }) });
    await expect(i.secureContext('example.test')).resolves.toBeDefined();
    await i.close();
    expect(logged).toHaveLength(1);
    expect(logged[0]?.msg).toMatch(/cannot cache leaf .*example\.test\.pem/);
    expect(logged[0]?.err).toBeInstanceOf(Error);
  });
});
