import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import forge from 'node-forge';
import { CaError, ensureCa, exportCa, initCa, loadCa, type CaMaterial } from '../../../src/tls/ca.js';
import { DAY_MS, removeDir, tempDir } from './fixtures.js';

let dir: string;
let ca: CaMaterial;
const dirs: string[] = [];

beforeAll(async () => {
  dir = await tempDir();
  await initCa(dir);
  ca = await loadCa(dir);
});
afterAll(async () => {
  await Promise.all([dir, ...dirs].map(removeDir));
});

async function scratch(): Promise<string> {
  const d = await tempDir();
  dirs.push(d);
  return d;
}

/** A copy of the shared CA in a new folder, for tests that damage files. */
async function copyOfCa(): Promise<string> {
  const d = await scratch();
  for (const f of ['ca.pem', 'ca.key', 'leaf.key']) await writeFile(join(d, f), await readFile(join(dir, f)), { mode: 0o600 });
  return d;
}

describe('initCa: the CA certificate', () => {
  it('is a CA limited to signing leaves (critical basicConstraints, pathLen 0, critical keyUsage)', () => {
    const bc = ca.cert.getExtension('basicConstraints') as { cA: boolean; pathLenConstraint: number; critical: boolean };
    expect(bc).toMatchObject({ cA: true, pathLenConstraint: 0, critical: true });
    const ku = ca.cert.getExtension('keyUsage') as Record<string, boolean>;
    expect(ku).toMatchObject({ critical: true, keyCertSign: true, cRLSign: true, digitalSignature: false });
    expect(ca.x509.ca).toBe(true);
  });

  it('is named CN=Portico CA, O=Portico with no bogus country', () => {
    expect(ca.x509.subject).toBe('CN=Portico CA\nO=Portico');
    expect(ca.x509.issuer).toBe(ca.x509.subject);
    expect(ca.cert.subject.getField('C')).toBeNull();
  });

  it('is valid for 10 years from a day ago, is self-signed with sha256WithRSA and has an SKI', () => {
    const from = Date.parse(ca.x509.validFrom);
    const to = Date.parse(ca.x509.validTo);
    expect(from).toBeLessThan(Date.now() - DAY_MS + 60_000);
    expect((to - Date.now()) / (365.25 * DAY_MS)).toBeCloseTo(10, 1);
    expect(ca.x509.verify(ca.x509.publicKey)).toBe(true);
    expect(ca.cert.signatureOid).toBe(forge.pki.oids.sha256WithRSAEncryption);
    expect(ca.subjectKeyIdentifier).toHaveLength(20);
    expect(ca.cert.verifySubjectKeyIdentifier()).toBe(true);
  });

  it('has a positive 128-bit serial', () => {
    expect(ca.x509.serialNumber).toMatch(/^01[0-9A-F]{30}$/);
  });

  it('writes the keys as PKCS#8 at mode 0600 and the certificate at 0644', async () => {
    expect((await stat(join(dir, 'ca.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'leaf.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'ca.pem'))).mode & 0o777).toBe(0o644);
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(ca.leafKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(ca.warnings).toEqual([]);
  });

  it('uses a leaf key that is not the CA key', () => {
    expect(ca.leafPrivateKey.equals(ca.key)).toBe(false);
    expect(ca.leafKey.n.equals((ca.cert.publicKey as forge.pki.rsa.PublicKey).n)).toBe(false);
  });

  it('creates a missing folder and accepts another common name', async () => {
    const d = join(await scratch(), 'nested', 'certs');
    const paths = await initCa(d, { commonName: 'Team CA' });
    expect(new X509Certificate(await readFile(paths.certFile)).subject).toBe('CN=Team CA\nO=Portico');
    expect(paths.fingerprintSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });
});

describe('initCa: overwriting', () => {
  it('refuses to replace an existing CA, and replaces it with force', async () => {
    const d = await copyOfCa();
    await expect(initCa(d)).rejects.toThrow(/already exists.*--force/);
    const before = await readFile(join(d, 'ca.pem'), 'utf8');
    await initCa(d, { force: true });
    expect(await readFile(join(d, 'ca.pem'), 'utf8')).not.toBe(before);
    expect((await stat(join(d, 'ca.key'))).mode & 0o777).toBe(0o600);
  });

  it('refuses when only one of the files is there', async () => {
    const d = await scratch();
    await writeFile(join(d, 'leaf.key'), 'x');
    await expect(initCa(d)).rejects.toBeInstanceOf(CaError);
  });
});

describe('loadCa errors', () => {
  it('says how to create a CA when there is none', async () => {
    const d = await scratch();
    await expect(loadCa(d)).rejects.toThrow(`no CA in ${d}: run "portico ca init"`);
    await expect(loadCa(join(d, 'absent'))).rejects.toMatchObject({ code: 'CA_MISSING' });
  });

  it('names the missing file of an incomplete CA', async () => {
    const d = await copyOfCa();
    await rm(join(d, 'leaf.key'));
    await expect(loadCa(d)).rejects.toThrow(/incomplete CA .*leaf\.key missing/);
  });

  it('names the file and the reason when a file is a directory', async () => {
    const d = await copyOfCa();
    await rm(join(d, 'ca.key'));
    await mkdir(join(d, 'ca.key'));
    await expect(loadCa(d)).rejects.toThrow(`cannot read ${join(d, 'ca.key')}`);
  });

  it.each([
    ['ca.pem', 'not a certificate', /corrupt .*ca\.pem/],
    ['ca.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', /corrupt .*ca\.pem/],
    ['ca.key', 'garbage', /corrupt .*ca\.key/],
    ['leaf.key', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', /corrupt .*leaf\.key/],
  ])('reports a corrupt %s', async (file, content, message) => {
    const d = await copyOfCa();
    await writeFile(join(d, file), content);
    await expect(loadCa(d)).rejects.toThrow(message);
    await expect(loadCa(d)).rejects.toMatchObject({ code: 'CA_CORRUPT' });
  });

  it('reports a CA key that does not belong to the certificate', async () => {
    const d = await copyOfCa();
    await writeFile(join(d, 'ca.key'), await readFile(join(dir, 'leaf.key')));
    await expect(loadCa(d)).rejects.toThrow(/ca\.key: it is not the key of/);
  });

  it('refuses a file far too large to be a certificate', async () => {
    const d = await copyOfCa();
    await writeFile(join(d, 'ca.pem'), Buffer.alloc(100_000, 0x41));
    await expect(loadCa(d)).rejects.toThrow(/ca\.pem: file too large/);
  });

  it('warns about key files readable by others', async () => {
    const d = await copyOfCa();
    await chmod(join(d, 'ca.key'), 0o644);
    const loaded = await loadCa(d);
    expect(loaded.warnings).toHaveLength(1);
    expect(loaded.warnings[0]).toMatch(/ca\.key is readable by others \(mode 644\)/);
  });

  it('warns when the CA is about to expire', async () => {
    const loaded = await loadCa(dir, { now: () => Date.parse(ca.x509.validTo) - 5 * DAY_MS, monotonic: () => 0 });
    expect(loaded.warnings).toEqual([expect.stringMatching(/expires on/)]);
  });
});

describe('ensureCa and exportCa', () => {
  it('creates a CA on first use and loads the same one afterwards', async () => {
    const d = join(await scratch(), 'certs');
    const first = await ensureCa(d);
    const second = await ensureCa(d);
    expect(second.fingerprintSha256).toBe(first.fingerprintSha256);
  });

  it('never replaces a broken CA', async () => {
    const d = await copyOfCa();
    await writeFile(join(d, 'ca.pem'), 'broken');
    await expect(ensureCa(d)).rejects.toMatchObject({ code: 'CA_CORRUPT' });
    expect(await readFile(join(d, 'ca.pem'), 'utf8')).toBe('broken');
  });

  it('exports PEM text and DER bytes of the same certificate', async () => {
    const pem = await exportCa(dir, 'pem');
    const der = await exportCa(dir, 'der');
    expect(pem.toString('utf8')).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(der[0]).toBe(0x30);
    expect(new X509Certificate(der).fingerprint256).toBe(ca.fingerprintSha256);
    expect(new X509Certificate(pem).fingerprint256).toBe(ca.fingerprintSha256);
    await expect(exportCa(await scratch(), 'pem')).rejects.toThrow(/no CA in/);
  });
});
