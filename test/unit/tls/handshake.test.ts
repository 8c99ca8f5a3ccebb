import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { checkServerIdentity, connect, createServer, type PeerCertificate, type Server, type TlsOptions } from 'node:tls';
import { promisify } from 'node:util';
import { systemClock } from '../../../src/core/clock.js';
import type { CaMaterial } from '../../../src/tls/ca.js';
import { CertificateIssuer } from '../../../src/tls/issuer.js';
import { freshCa, removeDir } from './fixtures.js';

const run = promisify(execFile);

let ca: CaMaterial;
let issuer: CertificateIssuer;
const servers: Server[] = [];

beforeAll(async () => {
  ca = await freshCa();
  issuer = new CertificateIssuer(ca, { cacheSize: 10, validityDays: 30, clock: systemClock });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await issuer.close();
  await removeDir(ca.dir);
});

/** A TLS server that picks its certificate the way the MITM path does: SNI name → issuer.secureContext(). */
async function sniServer(defaultHost: string): Promise<number> {
  const fallback = issuer.issue(defaultHost);
  const options: TlsOptions = {
    key: fallback.keyPem,
    cert: fallback.certPem,
    SNICallback: (name, cb) => void issuer.secureContext(name).then((c) => cb(null, c), (err: Error) => cb(err)),
  };
  const server = createServer(options, (socket) => socket.end('hello'));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

interface Handshake { authorized: boolean; error?: string; peer: PeerCertificate }

function handshake(port: number, opts: { servername?: string; verifyAs?: string }): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1', port, ca: ca.certPem,
      ...(opts.servername ? { servername: opts.servername } : {}),
      ...(opts.verifyAs ? { checkServerIdentity: (_h: string, cert: PeerCertificate) => checkServerIdentity(opts.verifyAs ?? '', cert) } : {}),
    });
    socket.once('secureConnect', () => {
      const error = socket.authorizationError;
      resolve({ authorized: socket.authorized, peer: socket.getPeerCertificate(), ...(error ? { error: String(error) } : {}) });
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('a real TLS handshake against issued leaves', () => {
  it('is authorized for an SNI host name', async () => {
    const port = await sniServer('127.0.0.1');
    const r = await handshake(port, { servername: 'example.test' });
    expect(r).toMatchObject({ authorized: true });
    expect(r.peer.subject.CN).toBe('example.test');
    expect(r.peer.issuer.CN).toBe('Portico CA');
  });

  it('is authorized for an IPv4 address (no SNI; default identity check on 127.0.0.1)', async () => {
    const port = await sniServer('127.0.0.1');
    const r = await handshake(port, {});
    expect(r.authorized).toBe(true);
    expect(r.peer.subjectaltname).toBe('IP Address:127.0.0.1');
  });

  it('passes node\'s identity check for an IPv6 address', async () => {
    const port = await sniServer('[::1]');
    await expect(handshake(port, { verifyAs: '::1' })).resolves.toMatchObject({ authorized: true });
  });

  it('fails the identity check for a name the leaf was not issued for', async () => {
    const port = await sniServer('127.0.0.1');
    await expect(handshake(port, { servername: 'example.test', verifyAs: 'other.test' })).rejects.toThrow(/altnames/i);
  });

  it('serves a repeat handshake from the memory cache', async () => {
    const port = await sniServer('127.0.0.1');
    const before = issuer.stats();
    await handshake(port, { servername: 'repeat.test' });
    await handshake(port, { servername: 'repeat.test' });
    const after = issuer.stats();
    expect(after.issued - before.issued).toBe(1);
    expect(after.memoryHits - before.memoryHits).toBe(1);
  });
});

describe('openssl', () => {
  it.each(['example.test', '127.0.0.1', '::1'])('verifies the leaf for %s strictly as a TLS server certificate', async (host) => {
    const file = join(ca.dir, `openssl-${host.replace(/:/g, '_')}.pem`);
    await writeFile(file, issuer.issue(host).certPem);
    const { stdout } = await run('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', join(ca.dir, 'ca.pem'), file]);
    expect(stdout).toContain(': OK');
  });
});
