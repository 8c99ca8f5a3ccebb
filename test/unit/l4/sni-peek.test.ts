import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileSniRoutes } from '../../../src/l4/routes.js';
import { peekSni } from '../../../src/l4/sni-peek.js';

/** The first bytes a real node:tls client sends (its ClientHello), captured on a loopback socket. */
async function captureClientHello(servername: string | undefined): Promise<Buffer> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const got = new Promise<Buffer>((resolve) => {
    server.once('connection', (s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) { resolve(buf); s.destroy(); }
      });
    });
  });
  const client = tls.connect({ host: '127.0.0.1', port, ...(servername === undefined ? {} : { servername }), rejectUnauthorized: false });
  client.on('error', () => undefined);
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}

let withSni: Buffer;
let withoutSni: Buffer;
beforeAll(async () => {
  withSni = await captureClientHello('App.Example.COM');
  withoutSni = await captureClientHello(undefined);
});

describe('peekSni on real node:tls ClientHellos', () => {
  it('finds the server name, lower-cased', () => {
    expect(peekSni(withSni)).toEqual({ kind: 'sni', name: 'app.example.com' });
  });

  it('says no-sni for a client that sent none (connecting by IP)', () => {
    expect(peekSni(withoutSni)).toEqual({ kind: 'no-sni' });
  });

  it('is incomplete on every strict prefix', () => {
    for (const n of [1, 4, 5, 40, withSni.length - 1]) expect(peekSni(withSni.subarray(0, n)).kind).toBe('incomplete');
  });

  it('reassembles a ClientHello split over two handshake records', () => {
    const body = withSni.subarray(5);
    const cut = 60;
    const rec = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, b.length >> 8, b.length & 0xff]), b]);
    const split = Buffer.concat([rec(body.subarray(0, cut)), rec(body.subarray(cut))]);
    expect(peekSni(split)).toEqual({ kind: 'sni', name: 'app.example.com' });
    expect(peekSni(split.subarray(0, 5 + cut + 3)).kind).toBe('incomplete');
  });

  it('tells plain text from TLS, and refuses what cannot be a ClientHello', () => {
    expect(peekSni(Buffer.from('GET / HTTP/1.1\r\n'))).toEqual({ kind: 'not-tls' });
    expect(peekSni(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00]))).toMatchObject({ kind: 'invalid' }); // ServerHello
    expect(peekSni(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00]))).toMatchObject({ kind: 'invalid', reason: 'record length 0' });
    expect(peekSni(withSni.subarray(0, 200), 100)).toMatchObject({ kind: 'invalid' });
  });
});

describe('SNI routes', () => {
  const router = compileSniRoutes([
    { match: ['api.example.com'], pool: 'api' },
    { match: ['*.example.com', 'example.com'], pool: 'web' },
  ], 'fallback');

  it('matches exact names first in order, then globs (any case); others go to the default pool', () => {
    expect(router.route({ kind: 'sni', name: 'api.example.com' })).toEqual({ pool: 'api', sni: 'api.example.com' });
    expect(router.route({ kind: 'sni', name: 'a.b.example.com' })).toEqual({ pool: 'web', sni: 'a.b.example.com' });
    expect(router.route({ kind: 'sni', name: 'example.com' })).toEqual({ pool: 'web', sni: 'example.com' });
    expect(router.route({ kind: 'sni', name: 'evil-example.com' })).toEqual({ pool: 'fallback', sni: 'evil-example.com' });
    expect(router.route({ kind: 'no-sni' })).toEqual({ pool: 'fallback', sni: undefined });
    expect(router.route({ kind: 'not-tls' })).toEqual({ pool: 'fallback', sni: undefined });
  });

  it('routes a real ClientHello', () => {
    expect(compileSniRoutes([{ match: ['*.EXAMPLE.com'], pool: 'p' }], undefined).route(peekSni(withSni)).pool).toBe('p');
  });
});
