import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyError } from '../../../src/core/errors.js';
import type { OriginConfig, UpstreamDeps } from '../../../src/upstream/origin.js';
import { createParentProxyUpstream, headerObject, mapParentError } from '../../../src/upstream/parent-proxy.js';
import { createTargetGuard } from '../../../src/upstream/target-guard.js';
import { makeFlow, testClock } from '../../helpers/make-flow.js';
import { listen, readAll, selfSigned, startHttpsOrigin, startOrigin, type SelfSigned, type Started } from './servers.js';

const ctx = { clock: testClock, log: pino({ level: 'silent' }) };
const CFG: OriginConfig = {
  connectTimeoutMs: 2_000, headersTimeoutMs: 5_000, bodyTimeoutMs: 5_000, keepAliveTimeoutMs: 10_000,
  maxConnectionsPerOrigin: 4, insecure: false,
};
const deps: UpstreamDeps = { guard: createTargetGuard({ allow: ['127.0.0.0/8'], selfAddresses: [] }), clock: testClock };

interface Seen { method: string; url: string; auth?: string }

/** A minimal parent proxy: absolute-form requests are re-sent with node:http, CONNECT is spliced (or refused). */
function startParent(seen: Seen[], refuseConnect = false): Promise<Started<Server>> {
  const server = createServer((req: IncomingMessage, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers['proxy-authorization'] });
    const target = new URL(req.url ?? '');
    const out = request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.rawHeaders }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.rawHeaders);
      up.pipe(res);
    });
    req.pipe(out);
  });
  server.on('connect', (req: IncomingMessage, socket, head: Buffer) => {
    seen.push({ method: 'CONNECT', url: req.url ?? '', auth: req.headers['proxy-authorization'] });
    if (refuseConnect) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const up = connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(socket).pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  return listen(server);
}

async function failure(p: Promise<unknown>): Promise<ProxyError> {
  return p.then(() => { throw new Error('expected a failure'); }, (err: ProxyError) => err);
}

let origin: Started<Server>;
let tls: SelfSigned;
let https: Started<Server>;
beforeAll(async () => {
  origin = await startOrigin();
  tls = await selfSigned();
  https = await startHttpsOrigin(tls);
});
afterAll(async () => {
  await origin.close();
  await https.close();
});

describe('parent proxy upstream', () => {
  it('sends plain HTTP in absolute-form with the parent credentials, keeping duplicate fields', async () => {
    const seen: Seen[] = [];
    const parent = await startParent(seen);
    const up = createParentProxyUpstream(new URL(`http://user:pa%20ss@127.0.0.1:${parent.port}`), CFG, deps);
    const flow = makeFlow({ url: `http://127.0.0.1:${origin.port}/p?q=1`, headers: [['X-Dup', 'a'], ['x-dup', 'b'], ['Accept', '*/*']] });
    const res = await up.send(flow, ctx);
    const echoed = JSON.parse(await readAll(res.body)) as { url: string; rawHeaders: string[] };
    expect(seen[0]).toEqual({ method: 'GET', url: `http://127.0.0.1:${origin.port}/p?q=1`, auth: `Basic ${Buffer.from('user:pa ss').toString('base64')}` });
    expect(echoed.url).toBe('/p?q=1');
    expect(echoed.rawHeaders.filter((_h, i, all) => all[i - 1]?.toLowerCase() === 'x-dup')).toEqual(['a', 'b']);
    expect(flow.notes.upstream).toBe(`127.0.0.1:${origin.port}`);
    await up.close();
    await parent.close();
  });

  it('tunnels HTTPS origins with CONNECT and verifies them end to end', async () => {
    const seen: Seen[] = [];
    const parent = await startParent(seen);
    const trusting = createParentProxyUpstream(new URL(`http://127.0.0.1:${parent.port}`), { ...CFG, ca: tls.certFile }, deps);
    const res = await trusting.send(makeFlow({ url: `https://localhost:${https.port}/tls` }), ctx);
    expect(JSON.parse(await readAll(res.body)).url).toBe('/tls');
    expect(seen[0]).toMatchObject({ method: 'CONNECT', url: `localhost:${https.port}` });
    await trusting.close();

    const strictTls = createParentProxyUpstream(new URL(`http://127.0.0.1:${parent.port}`), CFG, deps);
    expect((await failure(strictTls.send(makeFlow({ url: `https://localhost:${https.port}/` }), ctx))).code).toBe('UPSTREAM_TLS');
    await strictTls.close();
    await parent.close();
  });

  it('a CONNECT refused by the parent and an unreachable parent are UPSTREAM_PROXY', async () => {
    const parent = await startParent([], true);
    const up = createParentProxyUpstream(new URL(`http://127.0.0.1:${parent.port}`), CFG, deps);
    const refused = await failure(up.send(makeFlow({ url: `https://localhost:${https.port}/` }), ctx));
    expect([refused.code, refused.message]).toEqual(['UPSTREAM_PROXY', `parent proxy 127.0.0.1:${parent.port} answered 403 to CONNECT`]);
    await up.close();
    await parent.close();

    const gone = createParentProxyUpstream(new URL(`http://127.0.0.1:${parent.port}`), CFG, deps);
    const err = await failure(gone.send(makeFlow({ url: `http://127.0.0.1:${origin.port}/` }), ctx));
    expect(err.code).toBe('UPSTREAM_PROXY');
    expect(err.message).toMatch(/is unreachable: connection to .* was refused/);
    await gone.close();
  });

  it('still guards the target as written', async () => {
    const up = createParentProxyUpstream(new URL('http://127.0.0.1:9'), CFG, deps);
    expect((await failure(up.send(makeFlow({ url: 'http://169.254.169.254/latest/meta-data' }), ctx))).code).toBe('FORBIDDEN_TARGET');
    await up.close();
  });
});

describe('parent proxy helpers', () => {
  it('groups duplicate fields under the first spelling', () => {
    const obj = headerObject(['host', 'a', 'X-Dup', '1', 'x-dup', '2', 'x-dup', '3', '__proto__', 'p']);
    expect(Object.entries(obj)).toEqual([['host', 'a'], ['X-Dup', ['1', '2', '3']], ['__proto__', 'p']]);
    expect(Object.getPrototypeOf(obj)).toBeNull(); // "__proto__" stayed a field, not a prototype
  });

  it('maps parent-side failures', () => {
    expect(mapParentError(new Error('Proxy Authentication Required (407)'), 'p:1').message).toBe('parent proxy p:1 requires authentication');
    expect(mapParentError(Object.assign(new Error('t'), { code: 'UND_ERR_HEADERS_TIMEOUT' }), 'p:1').code).toBe('HEADERS_TIMEOUT');
  });
});
