import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyError } from '../../../src/core/errors.js';
import type { Resolver } from '../../../src/upstream/lookup.js';
import { createTargetGuard } from '../../../src/upstream/target-guard.js';
import { authority, dialTunnel, parseConnectReply } from '../../../src/upstream/tunnel-dial.js';
import { listen, type Started } from './servers.js';

const open = createTargetGuard({ allow: ['127.0.0.0/8', '::1/128'], selfAddresses: [] });
const strict = createTargetGuard({ allow: [], selfAddresses: [] });

async function failure(p: Promise<Socket>): Promise<ProxyError> {
  return p.then((s) => { s.destroy(); throw new Error('expected a failure'); }, (err: ProxyError) => err);
}

async function roundTrip(socket: Socket, text: string): Promise<string> {
  socket.write(text);
  const [data] = (await once(socket, 'data')) as [Buffer];
  return data.toString();
}

/** A parent proxy that answers CONNECT with `reply` and then (on 2xx) splices to the target. */
function parentProxy(reply: (target: string) => string, seen: string[]): Promise<Started<Server>> {
  return listen(createServer((client) => {
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      client.off('data', onData);
      seen.push(head);
      const target = /^CONNECT (\S+) /.exec(head)?.[1] ?? '';
      const answer = reply(target);
      if (!/^HTTP\/1\.1 2/.test(answer)) {
        client.end(answer);
        return;
      }
      const [host, port] = [target.slice(0, target.lastIndexOf(':')).replace(/^\[|\]$/g, ''), Number(target.slice(target.lastIndexOf(':') + 1))];
      const upstream = connect(port, host);
      upstream.once('connect', () => {
        client.write(answer);
        client.pipe(upstream).pipe(client);
      });
    };
    client.on('data', onData);
  }));
}

let echo: Started<Server>;
beforeAll(async () => {
  echo = await listen(createServer((s) => s.pipe(s)));
});
afterAll(() => echo.close());

describe('dialTunnel, direct', () => {
  it('connects first and resolves with the socket', async () => {
    const socket = await dialTunnel({ host: '127.0.0.1', port: echo.port }, { guard: open, connectTimeoutMs: 2_000 });
    expect(await roundTrip(socket, 'ping')).toBe('ping');
    socket.destroy();
  });

  it('reaches IPv6 targets written with brackets', async (t) => {
    const server = createServer((s) => s.pipe(s));
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(0, '::1', () => resolve(true));
    });
    if (!ok) return t.skip('no IPv6 loopback here');
    const port = (server.address() as AddressInfo).port;
    const socket = await dialTunnel({ host: '[::1]', port }, { guard: open, connectTimeoutMs: 2_000 });
    expect(await roundTrip(socket, 'six')).toBe('six');
    socket.destroy();
    server.close();
  });

  it('maps refused, forbidden (literal, odd spelling, DNS) and invalid hosts', async () => {
    const closed = await listen(createServer());
    await closed.close();
    expect((await failure(dialTunnel({ host: '127.0.0.1', port: closed.port }, { guard: open, connectTimeoutMs: 2_000 }))).code).toBe('CONNECT_REFUSED');
    expect((await failure(dialTunnel({ host: '127.0.0.1', port: echo.port }, { guard: strict, connectTimeoutMs: 2_000 }))).code).toBe('FORBIDDEN_TARGET');
    expect((await failure(dialTunnel({ host: '0x7f.1', port: echo.port }, { guard: strict, connectTimeoutMs: 2_000 }))).code).toBe('FORBIDDEN_TARGET');
    const toLoopback: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const rebinding = await failure(dialTunnel({ host: 'public.example', port: echo.port }, { guard: strict, connectTimeoutMs: 2_000, resolve: toLoopback }));
    expect([rebinding.code, rebinding.message]).toEqual(['FORBIDDEN_TARGET', 'public.example: 127.0.0.1 is a loopback address']);
    const missing: Resolver = async (h) => { throw Object.assign(new Error('nf'), { code: 'ENOTFOUND', hostname: h }); };
    expect((await failure(dialTunnel({ host: 'nonexistent.invalid', port: 443 }, { guard: strict, connectTimeoutMs: 2_000, resolve: missing }))).code).toBe('DNS_FAILED');
    expect((await failure(dialTunnel({ host: 'a b', port: 443 }, { guard: open, connectTimeoutMs: 2_000 }))).code).toBe('BAD_REQUEST');
  });

  it('times out under one deadline (here: a resolver that never answers)', async () => {
    const never: Resolver = () => new Promise(() => undefined);
    const err = await failure(dialTunnel({ host: 'slow.example', port: 443 }, { guard: strict, connectTimeoutMs: 50, resolve: never }));
    expect([err.code, err.message]).toEqual(['CONNECT_TIMEOUT', 'connecting to slow.example:443 timed out']);
  });

  it('gives up when the client goes away', async () => {
    const never: Resolver = () => new Promise(() => undefined);
    const controller = new AbortController();
    const pending = dialTunnel({ host: 'slow.example', port: 443 }, { guard: strict, connectTimeoutMs: 5_000, resolve: never, signal: controller.signal });
    controller.abort();
    expect((await failure(pending)).code).toBe('CLIENT_ABORTED');
  });
});

describe('dialTunnel through a parent proxy', () => {
  it('sends CONNECT with Host and credentials, and keeps bytes sent past the header block', async () => {
    const seen: string[] = [];
    const parent = await parentProxy(() => 'HTTP/1.1 200 Connection established\r\nX-Parent: 1\r\n\r\n', seen);
    const socket = await dialTunnel({ host: '127.0.0.1', port: echo.port }, {
      guard: open, connectTimeoutMs: 2_000, parentProxy: new URL(`http://u%40x:p%3Aw@127.0.0.1:${parent.port}`),
    });
    expect(await roundTrip(socket, 'through')).toBe('through');
    expect(seen[0]).toBe(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\n` +
      `Proxy-Authorization: Basic ${Buffer.from('u@x:p:w').toString('base64')}\r\n\r\n`);
    socket.destroy();
    await parent.close();
  });

  it('unshifts early tunnel bytes back onto the socket', async () => {
    const parent = await listen(createServer((c) => c.once('data', () => c.write('HTTP/1.1 200 OK\r\n\r\nHELLO'))));
    const socket = await dialTunnel({ host: '[::1]', port: 443 }, { guard: open, connectTimeoutMs: 2_000, parentProxy: new URL(`http://127.0.0.1:${parent.port}`) });
    const [data] = (await once(socket, 'data')) as [Buffer];
    expect(data.toString()).toBe('HELLO');
    socket.destroy();
    await parent.close();
  });

  it.each<[string, string, RegExp]>([
    ['a refusal', 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n', /answered 403 Forbidden to CONNECT 127\.0\.0\.1:1/],
    ['garbage', 'SSH-2.0-OpenSSH\r\n\r\n', /malformed status line/],
    ['an endless head', `HTTP/1.1 200 OK\r\n${'X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(600)}`, /larger than 16384 bytes/],
    ['a close', '', /closed the connection/],
  ])('rejects %s with UPSTREAM_PROXY', async (_name, reply, message) => {
    const parent = await listen(createServer((c) => c.once('data', () => (reply ? c.end(reply) : c.end()))));
    const err = await failure(dialTunnel({ host: '127.0.0.1', port: 1 }, { guard: open, connectTimeoutMs: 2_000, parentProxy: new URL(`http://127.0.0.1:${parent.port}`) }));
    expect(err.code).toBe('UPSTREAM_PROXY');
    expect(err.message).toMatch(message);
    await parent.close();
  });

  it('an unreachable parent is UPSTREAM_PROXY; the target is still guarded', async () => {
    const closed = await listen(createServer());
    await closed.close();
    const parentProxyUrl = new URL(`http://127.0.0.1:${closed.port}`);
    const err = await failure(dialTunnel({ host: 'example.com', port: 443 }, { guard: strict, connectTimeoutMs: 2_000, parentProxy: parentProxyUrl }));
    expect([err.code, err.message]).toEqual(['UPSTREAM_PROXY', `parent proxy 127.0.0.1:${closed.port} is unreachable: connection to 127.0.0.1:${closed.port} was refused`]);
    expect((await failure(dialTunnel({ host: '169.254.169.254', port: 80 }, { guard: strict, connectTimeoutMs: 2_000, parentProxy: parentProxyUrl }))).code).toBe('FORBIDDEN_TARGET');
  });
});

describe('parseConnectReply', () => {
  it.each<[string, string, ReturnType<typeof parseConnectReply>]>([
    ['incomplete', 'HTTP/1.1 200 OK\r\n', { kind: 'incomplete' }],
    ['done', 'HTTP/1.1 200 Connection established\r\n\r\nrest', { kind: 'done', status: 200, reason: 'Connection established', headerBytes: 39 }],
    ['HTTP/1.0, no reason', 'HTTP/1.0 407\r\nProxy-Authenticate: Basic\r\n\r\n', { kind: 'done', status: 407, reason: '', headerBytes: 43 }],
    ['bad line', 'HTTP/2 200\r\n\r\n', { kind: 'invalid', reason: 'malformed status line "HTTP/2 200"' }],
  ])('%s', (_name, text, expected) => {
    expect(parseConnectReply(Buffer.from(text))).toEqual(expected);
  });

  it('is bounded', () => {
    expect(parseConnectReply(Buffer.alloc(32, 0x61), 16)).toEqual({ kind: 'invalid', reason: 'reply head larger than 16 bytes' });
    expect(authority('::1', 443)).toBe('[::1]:443');
    expect(authority('a.example', 8443)).toBe('a.example:8443');
  });
});
