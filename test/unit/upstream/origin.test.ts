import type { Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyError } from '../../../src/core/errors.js';
import { FlowAbort } from '../../../src/core/flow-abort.js';
import { getHeader } from '../../../src/core/headers.js';
import { createOriginUpstream, type OriginConfig, type UpstreamDeps } from '../../../src/upstream/origin.js';
import type { Resolver } from '../../../src/upstream/lookup.js';
import { createTargetGuard } from '../../../src/upstream/target-guard.js';
import { makeFlow, testClock, type FlowInit } from '../../helpers/make-flow.js';
import { listen, readAll, selfSigned, startHttpsOrigin, startOrigin, type SelfSigned, type Started } from './servers.js';

const ctx = { clock: testClock, log: pino({ level: 'silent' }) };
const CFG: OriginConfig = {
  connectTimeoutMs: 2_000, headersTimeoutMs: 5_000, bodyTimeoutMs: 5_000, keepAliveTimeoutMs: 10_000,
  maxConnectionsPerOrigin: 4, insecure: false,
};
/** Test DNS: no query ever leaves the machine. */
const resolve: Resolver = async (host) => {
  if (host === 'origin.test' || host === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host });
};
const deps = (allow = ['127.0.0.0/8']): UpstreamDeps => ({ guard: createTargetGuard({ allow, selfAddresses: [] }), clock: testClock, resolve });

async function failure(p: Promise<unknown>): Promise<ProxyError> {
  return p.then(() => { throw new Error('expected a failure'); }, (err: ProxyError) => err);
}

let origin: Started<Server>;
beforeAll(async () => { origin = await startOrigin(); });
afterAll(() => origin.close());

describe('origin upstream over real sockets', () => {
  const send = async (up: ReturnType<typeof createOriginUpstream>, init: FlowInit) => {
    const flow = makeFlow(init);
    const res = await up.send(flow, ctx);
    return { flow, res, text: await readAll(res.body) };
  };

  it('reuses one keep-alive connection for sequential GETs, and records notes and timings', async () => {
    const up = createOriginUpstream(CFG, deps());
    const before = origin.connections();
    for (let i = 0; i < 3; i++) {
      const { flow, res, text } = await send(up, { url: `http://127.0.0.1:${origin.port}/echo?i=${i}` });
      expect(res.head.status).toBe(200);
      expect(JSON.parse(text).url).toBe(`/echo?i=${i}`);
      expect(flow.notes.upstream).toBe(`127.0.0.1:${origin.port}`);
      expect(flow.timings.firstByte).toBeGreaterThan(0);
      // undici marks the connection free a tick after the body ends; a real next request is never that quick.
      await new Promise((r) => setImmediate(r));
    }
    expect(origin.connections() - before).toBe(1);
    await up.close();
  });

  it('streams a chunked POST body and keeps raw header case both ways; Host comes from the URL', async () => {
    const up = createOriginUpstream(CFG, deps());
    const body = Readable.from((async function* () {
      for (let i = 0; i < 5; i++) { await sleep(5); yield Buffer.from(`part${i};`); }
    })());
    const { res, text } = await send(up, {
      method: 'POST', url: `http://origin.test:${origin.port}/upload`, body,
      headers: [['X-MiXeD-Case', 'yes'], ['Host', 'wrong.example'], ['Content-Type', 'text/plain']],
    });
    const seen = JSON.parse(text) as { body: string; rawHeaders: string[] };
    expect(seen.body).toBe('part0;part1;part2;part3;part4;');
    expect(seen.rawHeaders).toContain('X-MiXeD-Case');
    expect(seen.rawHeaders[seen.rawHeaders.indexOf('host') + 1]).toBe(`origin.test:${origin.port}`);
    expect(seen.rawHeaders.map((h) => h.toLowerCase())).toContain('transfer-encoding');
    expect(res.head.headers.find(([k]) => k === 'X-Resp-CaSe')).toEqual(['X-Resp-CaSe', 'kept']);
    await up.close();
  });

  it('HEAD and 204 have no body', async () => {
    const up = createOriginUpstream(CFG, deps());
    const head = await send(up, { method: 'HEAD', url: `http://127.0.0.1:${origin.port}/echo` });
    expect(head.res.head.status).toBe(200);
    expect(head.res.body).toBeNull();
    const empty = await send(up, { url: `http://127.0.0.1:${origin.port}/empty` });
    expect(empty.res.head.status).toBe(204);
    expect(empty.res.body).toBeNull();
    await up.close();
  });

  it('maps refused, headers timeout, DNS failure and forbidden targets', async () => {
    const closed = await listen(createNetServer());
    const deadPort = closed.port;
    await closed.close();
    const up = createOriginUpstream({ ...CFG, headersTimeoutMs: 200 }, deps());
    expect((await failure(up.send(makeFlow({ url: `http://127.0.0.1:${deadPort}/` }), ctx))).code).toBe('CONNECT_REFUSED');
    const hang = await failure(up.send(makeFlow({ url: `http://127.0.0.1:${origin.port}/hang` }), ctx));
    expect(hang.code).toBe('HEADERS_TIMEOUT');
    const dns = await failure(up.send(makeFlow({ url: 'http://nonexistent.invalid/' }), ctx));
    expect([dns.code, dns.message]).toEqual(['DNS_FAILED', 'DNS lookup of nonexistent.invalid failed']);
    await up.close();

    const strict = createOriginUpstream(CFG, deps([]));
    expect((await failure(strict.send(makeFlow({ url: `http://127.0.0.1:${origin.port}/` }), ctx))).code).toBe('FORBIDDEN_TARGET');
    expect((await failure(strict.send(makeFlow({ url: `http://0x7f.1:${origin.port}/` }), ctx))).code).toBe('FORBIDDEN_TARGET');
    const viaDns = await failure(strict.send(makeFlow({ url: `http://origin.test:${origin.port}/` }), ctx));
    expect([viaDns.code, viaDns.message]).toEqual(['FORBIDDEN_TARGET', 'origin.test: 127.0.0.1 is a loopback address']);
    await strict.close();
  });

  it('aborts the upstream request when the flow signal fires', async () => {
    const up = createOriginUpstream(CFG, deps());
    const controller = new AbortController();
    const pending = up.send(makeFlow({ url: `http://127.0.0.1:${origin.port}/hang`, signal: controller.signal }), ctx);
    setTimeout(() => controller.abort(), 50);
    expect((await failure(pending)).code).toBe('CLIENT_ABORTED');
    await up.close();
  });

  it('aborts the upstream request through the front door\'s FlowAbort (no signal built)', async () => {
    const up = createOriginUpstream(CFG, deps());
    const abort = new FlowAbort();
    const flow = { ...makeFlow({ url: `http://127.0.0.1:${origin.port}/hang` }), abort };
    const pending = up.send(flow, ctx);
    setTimeout(() => abort.abort(new Error('client closed')), 50);
    expect((await failure(pending)).code).toBe('CLIENT_ABORTED');
    await up.close();
  });
});

describe('HTTPS origins', () => {
  let tls: SelfSigned;
  let https: Started<Server>;
  beforeAll(async () => {
    tls = await selfSigned();
    https = await startHttpsOrigin(tls);
  });
  afterAll(() => https.close());

  it('refuses a self-signed certificate by default', async () => {
    const up = createOriginUpstream(CFG, deps());
    const err = await failure(up.send(makeFlow({ url: `https://127.0.0.1:${https.port}/` }), ctx));
    expect(err.code).toBe('UPSTREAM_TLS');
    expect(err.message).toMatch(/self-signed/);
    await up.close();
  });

  it('trusts it when upstream.ca names it, or when insecure', async () => {
    for (const cfg of [{ ...CFG, ca: tls.certFile }, { ...CFG, insecure: true }]) {
      const up = createOriginUpstream(cfg, deps());
      const flow = makeFlow({ url: `https://localhost:${https.port}/secure` });
      const res = await up.send(flow, ctx);
      expect(res.head.status).toBe(200);
      expect(JSON.parse(await readAll(res.body)).url).toBe('/secure');
      await up.close();
    }
  });

  it('fails loudly at startup when the CA file is missing', () => {
    expect(() => createOriginUpstream({ ...CFG, ca: '/nonexistent/ca.pem' }, deps())).toThrow(/upstream.ca: cannot read \/nonexistent\/ca.pem/);
  });
});

describe('the keep-alive race', () => {
  /** Answers the first request on each connection, then drops the connection when the next request arrives. */
  async function racyServer(mode: 'fin' | 'rst'): Promise<Started<NetServer>> {
    return listen(createNetServer((socket: Socket) => {
      let requests = 0;
      socket.on('data', (data: Buffer) => {
        if (!data.includes('\r\n\r\n')) return;
        requests++;
        if (requests === 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        else if (mode === 'rst') socket.resetAndDestroy();
        else socket.end();
      });
    }));
  }

  it.each(['fin', 'rst'] as const)('retries an idempotent request once on a fresh connection (%s)', async (mode) => {
    const racy = await racyServer(mode);
    const up = createOriginUpstream(CFG, deps());
    for (let i = 0; i < 3; i++) {
      const res = await up.send(makeFlow({ url: `http://127.0.0.1:${racy.port}/r${i}` }), ctx);
      expect(await readAll(res.body)).toBe('ok');
      await new Promise((r) => setImmediate(r));
    }
    expect(racy.connections()).toBe(3);
    await up.close();
    await racy.close();
  });

  it('does not retry a POST', async () => {
    const racy = await racyServer('fin');
    const up = createOriginUpstream(CFG, deps());
    await readAll((await up.send(makeFlow({ url: `http://127.0.0.1:${racy.port}/` }), ctx)).body);
    await new Promise((r) => setImmediate(r));
    const post = makeFlow({ method: 'POST', url: `http://127.0.0.1:${racy.port}/`, body: Readable.from([Buffer.from('x')]) });
    expect((await failure(up.send(post, ctx))).code).toBe('UPSTREAM_RESET');
    await up.close();
    await racy.close();
  });
});

describe('backpressure', () => {
  it('hands over a body that arrived whole as bytes, and a larger one as a stream with every byte', async () => {
    const up = createOriginUpstream(CFG, deps());
    const small = await up.send(makeFlow({ url: `http://127.0.0.1:${origin.port}/bytes/1024` }), ctx);
    expect(small.body).toBeInstanceOf(Uint8Array);
    expect((small.body as Uint8Array).byteLength).toBe(1024);
    const large = await up.send(makeFlow({ url: `http://127.0.0.1:${origin.port}/bytes/${4 * 1024 * 1024}` }), ctx);
    expect(large.body).toBeInstanceOf(Readable);
    expect((await readAll(large.body)).length).toBe(4 * 1024 * 1024);
    await up.close();
  });

  it('streams 64 MiB to a slow reader in bounded memory', async () => {
    const up = createOriginUpstream(CFG, deps());
    const total = 64 * 1024 * 1024;
    const res = await up.send(makeFlow({ url: `http://127.0.0.1:${origin.port}/bytes/${total}` }), ctx);
    expect(getHeader(res.head.headers, 'content-length')).toBe(String(total));
    const base = process.memoryUsage().rss;
    let peak = base;
    let received = 0;
    let n = 0;
    for await (const chunk of res.body as Readable) {
      received += (chunk as Buffer).length;
      if (++n % 8 === 0) {
        peak = Math.max(peak, process.memoryUsage().rss);
        await sleep(4); // a reader far slower than loopback
      }
    }
    expect(received).toBe(total);
    expect(peak - base).toBeLessThan(64 * 1024 * 1024);
    await up.close();
  });
});

