import dgram from 'node:dgram';
import { once } from 'node:events';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseProxyHeader } from '../../src/l4/proxy-protocol.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';
import { startL4InProcess, startUdpEcho, type InProcessL4 } from '../helpers/l4.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined); });

let pki: TestPki;
beforeAll(async () => { pki = await makeTestPki(); });
afterAll(async () => { const { rm } = await import('node:fs/promises'); await rm(pki.dir, { recursive: true, force: true }); });

async function l4(input: Record<string, unknown>): Promise<InProcessL4> {
  const x = await startL4InProcess(input);
  cleanup.push(() => x.lb.close(0));
  return x;
}

/** A TLS backend (the test PKI's leaf) answering `NAME saw SNI` on each connection: it terminates TLS, Portico does not. */
async function tlsBackend(name: string): Promise<string> {
  const server = tls.createServer({ key: pki.key, cert: pki.cert }, (s) => {
    s.end(`${name} saw ${(s as tls.TLSSocket & { servername?: string | false }).servername || 'no SNI'}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => new Promise((r) => server.close(() => r())));
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function tlsGet(port: number, servername: string | undefined): Promise<string> {
  const s = tls.connect({
    host: '127.0.0.1', port, ca: pki.caCert, ...(servername === undefined ? {} : { servername }),
    checkServerIdentity: () => undefined, // names differ per test; the chain is still verified against the test CA
  });
  let out = '';
  s.setEncoding('utf8');
  s.on('data', (d: string) => { out += d; });
  await new Promise<void>((resolve, reject) => { s.once('close', () => resolve()); s.once('error', reject); });
  expect(s.authorized).toBe(true);
  return out;
}

describe('portico l4: TLS passthrough routed by SNI', () => {
  it('routes real TLS clients by server name (exact, glob, default) without terminating TLS', async () => {
    const [api, web, other] = await Promise.all([tlsBackend('api'), tlsBackend('web'), tlsBackend('other')]);
    const x = await l4({
      listeners: [{ listen: '127.0.0.1:0', pool: 'other', sni: [{ match: 'api.example.com', pool: 'api' }, { match: ['*.example.com'], pool: 'web' }] }],
      pools: { api: { backends: [api] }, web: { backends: [web] }, other: { backends: [other] } },
    });
    expect(await tlsGet(x.port(), 'api.example.com')).toBe('api saw api.example.com');
    expect(await tlsGet(x.port(), 'WWW.Example.com')).toBe('web saw WWW.Example.com'); // the bytes pass untouched; the route matched any case
    expect(await tlsGet(x.port(), 'example.org')).toBe('other saw example.org');
    expect(await tlsGet(x.port(), undefined)).toBe('other saw no SNI');
    const flows = await x.waitFlows(4);
    expect(flows.map((f) => [f.notes.pool, f.notes.sni])).toEqual([['api', 'api.example.com'], ['web', 'www.example.com'], ['other', 'example.org'], ['other', undefined]]);
  });

  it('closes a connection whose server name matches no route when there is no default pool', async () => {
    const api = await tlsBackend('api');
    const x = await l4({ listeners: [{ listen: '127.0.0.1:0', sni: [{ match: 'api.example.com', pool: 'api' }] }], pools: { api: { backends: [api] } } });
    await expect(tlsGet(x.port(), 'nope.example.com')).rejects.toThrow();
    const [f] = await x.waitFlows(1);
    expect(f).toMatchObject({ error: { code: 'NO_HEALTHY_BACKEND' }, notes: { sni: 'nope.example.com', close: 'no pool' } });
  });
});

describe('portico l4 over UDP', () => {
  async function client(): Promise<{ port: number; ask(msg: string): Promise<string>; close(): void }> {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    return {
      port: s.address().port,
      ask: async (msg) => {
        const reply = once(s, 'message') as Promise<[Buffer]>;
        s.send(msg, portOf, '127.0.0.1');
        const timer = setTimeout(() => s.emit('message', Buffer.from('TIMEOUT')), 3000);
        const [b] = await reply;
        clearTimeout(timer);
        return b.toString();
      },
      close: () => s.close(),
    };
  }
  let portOf = 0;

  it('keeps one session per client address, balances new ones, and expires idle sessions', async () => {
    const [u1, u2] = await Promise.all([startUdpEcho('u1'), startUdpEcho('u2')]);
    cleanup.push(() => u1.close(), () => u2.close());
    const x = await l4({ listeners: [{ listen: '127.0.0.1:0', protocol: 'udp', pool: 'p', idleTimeoutMs: 300 }], pools: { p: { backends: [u1.address, u2.address] } } });
    expect(x.lb.urls()[0]).toMatch(/^udp:\/\/127\.0\.0\.1:\d+$/);
    portOf = x.port();
    const a = await client();
    const b = await client();
    cleanup.push(async () => { a.close(); b.close(); });
    expect(await a.ask('1')).toBe('u1:1');
    expect(await a.ask('2')).toBe('u1:2'); // same session, same backend
    expect(await b.ask('3')).toBe('u2:3'); // a new client: the next backend
    expect(x.lb.active()).toBe(2);
    const flows = await x.waitFlows(2, 3000); // both idle out after 300 ms
    expect(flows[0]).toMatchObject({ mode: 'l4', method: 'UDP', notes: { close: 'idle timeout', backend: u1.address }, bytesIn: 2, bytesOut: 8 });
    expect(x.lb.active()).toBe(0);
    expect(await a.ask('4')).toBe('u1:4'); // a fresh session after expiry: round robin goes on
  });
  it('sends a PROXY v2 DGRAM header in front of every datagram when the pool asks for it, which a real backend reads', async () => {
    // A UDP backend that checks the exact header bytes of each datagram, then answers with what it learned.
    const backend = dgram.createSocket('udp4');
    const headers: Buffer[] = [];
    backend.on('message', (msg, rinfo) => {
      const pp = parseProxyHeader(msg);
      const answer = pp.kind === 'ok' && pp.addresses !== undefined
        ? `${pp.addresses.transport} ${pp.addresses.source.ip}:${pp.addresses.source.port}>${pp.addresses.destination.port} ${msg.subarray(pp.length).toString()}`
        : `no header: ${msg.toString()}`;
      if (pp.kind === 'ok') headers.push(msg.subarray(0, pp.length));
      backend.send(answer, rinfo.port, rinfo.address);
    });
    backend.bind(0, '127.0.0.1');
    await once(backend, 'listening');
    cleanup.push(() => new Promise((r) => backend.close(() => r())));
    const x = await l4({
      listeners: [{ listen: '127.0.0.1:0', protocol: 'udp', pool: 'p', idleTimeoutMs: 500 }],
      pools: { p: { backends: [`127.0.0.1:${backend.address().port}`], proxyProtocol: 'v2' } },
    });
    portOf = x.port();
    const c = await client();
    cleanup.push(async () => c.close());
    const me = c.port;
    expect(await c.ask('one')).toBe(`dgram 127.0.0.1:${me}>${portOf} one`);
    expect(await c.ask('two')).toBe(`dgram 127.0.0.1:${me}>${portOf} two`); // the same session: a header on every datagram
    // signature, 0x21 (v2, PROXY), 0x12 (AF_INET, DGRAM), 12 address bytes, src 127.0.0.1, dst 127.0.0.1, ports
    const expected = Buffer.concat([Buffer.from('0d0a0d0a000d0a515549540a2112000c7f0000017f000001', 'hex'),
      Buffer.from([me >> 8, me & 0xff, portOf >> 8, portOf & 0xff])]).toString('hex');
    expect(headers.map((h) => h.toString('hex'))).toEqual([expected, expected]);
    const [f] = await x.waitFlows(1, 3000);
    expect(f).toMatchObject({ method: 'UDP', bytesIn: 6 }); // the client's bytes, not the headers
  });
});
