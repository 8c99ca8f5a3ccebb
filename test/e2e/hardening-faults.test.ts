import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { forwardConfigSchema } from '../../src/config/schema.js';
import type { ProxyEvent } from '../../src/core/events.js';
import type { FlowRecord } from '../../src/core/flow.js';
import { startObservers } from '../../src/observe/observers.js';
import { fixed, startCountingOrigin, viaProxy, type CountingOrigin } from '../helpers/cache-origin.js';
import { startHttpOrigin } from '../helpers/origin.js';
import { eventually } from '../helpers/raw-http.js';
import { startTestProxy, waitFor } from '../helpers/proxy.js';
import { freePort, redisMode, spawnRedis } from '../helpers/redis.js';
import { startBackend, startTestReverse } from '../helpers/reverse.js';

/** Faults around the proxy: none of them may crash the process or corrupt what the client receives. */

interface Got { status: number; body: Buffer; complete: boolean }

/** A GET through a proxy (absolute-form when `path` is a URL) that reports whether the body arrived complete. */
function get(port: number, path: string): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      const done = (): void => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: res.complete });
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });
    req.on('error', reject);
    req.end();
  });
}

const PREFIX = Buffer.alloc(3000, 0x61);
const cutLength = (_req: IncomingMessage, res: ServerResponse): void => {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': '100000' });
  res.write(PREFIX);
  setTimeout(() => res.socket?.destroy(), 30);
};
const cutChunked = (_req: IncomingMessage, res: ServerResponse): void => {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream' }); // chunked
  res.write(PREFIX.subarray(0, 1000));
  res.write(PREFIX.subarray(1000));
  setTimeout(() => res.socket?.destroy(), 30); // never sends the terminating 0-chunk
};

type FlowEnd = Extract<ProxyEvent, { type: 'flow.end' }>;
const lastFlow = (events: ProxyEvent[], path: string): FlowRecord | undefined =>
  events.filter((e): e is FlowEnd => e.type === 'flow.end' && new URL(e.flow.url).pathname === path).at(-1)?.flow;

describe.each([['Content-Length', cutLength], ['chunked', cutChunked]] as const)('an origin that dies mid-response (%s)', (_name, handler) => {
  it('forward: the client sees a truncated prefix, never a complete or corrupted body; the flow records the error', async () => {
    const origin = await startHttpOrigin(handler);
    const proxy = await startTestProxy({});
    try {
      const r = await get(proxy.port, `${origin.url}/cut`);
      expect(r.status).toBe(200);
      expect(r.complete).toBe(false);
      expect(r.body.length).toBeLessThanOrEqual(PREFIX.length);
      expect(r.body.equals(PREFIX.subarray(0, r.body.length))).toBe(true);
      const flow = await waitFor(() => lastFlow(proxy.events, '/cut'));
      expect(flow.error).toBeDefined();
      expect((await get(proxy.port, `${origin.url}/cut`)).status).toBe(200); // the proxy still serves
    } finally {
      await proxy.close(100);
      await origin.close();
    }
  });

  it('reverse: the same through the L7 balancer', async () => {
    const backend = await startBackend('cut', handler);
    const proxy = await startTestReverse({ pools: { default: { backends: [backend.address] } } });
    try {
      const r = await get(proxy.port, '/cut');
      expect(r.status).toBe(200);
      expect(r.complete).toBe(false);
      expect(r.body.equals(PREFIX.subarray(0, r.body.length))).toBe(true);
      const flow = await waitFor(() => lastFlow(proxy.events, '/cut'));
      expect(flow.error).toBeDefined();
    } finally {
      await proxy.close(100);
      await backend.close();
    }
  });
});

describe('reverse: backends that hang or do not resolve', () => {
  it('a hanging backend → 504 after the pool headers timeout; a DNS failure → an error answer; the proxy keeps serving', async () => {
    const hang = await startBackend('hang', () => undefined);
    const good = await startBackend('good');
    const proxy = await startTestReverse({
      pools: {
        hang: { backends: [hang.address], connections: { headersTimeoutMs: 300 } },
        nodns: { backends: ['no-such-host.invalid:80'] },
        good: { backends: [good.address] },
      },
      routes: [{ path: '/hang', pool: 'hang' }, { path: '/nodns', pool: 'nodns' }, { path: '/', pool: 'good' }],
    });
    try {
      const hung = await get(proxy.port, '/hang');
      expect(hung.status).toBe(504);
      const nodns = await get(proxy.port, '/nodns');
      expect([502, 503]).toContain(nodns.status);
      expect(nodns.body.toString()).toMatch(/DNS|no-such-host|NO_HEALTHY/);
      expect((await get(proxy.port, '/ok')).status).toBe(200);
    } finally {
      await proxy.close(100);
      await hang.close();
      await good.close();
    }
  });
});

const redis = await redisMode();

describe.runIf(redis !== 'skip')('Redis dies and returns, through the forward proxy', () => {
  let origin: CountingOrigin;
  beforeAll(async () => {
    origin = await startCountingOrigin();
    origin.route('/r', fixed({ 'Cache-Control': 'max-age=600' }));
  });
  afterAll(async () => origin.close());

  it('hits while up, every request still 200 while down (bypass), hits again once it is back', async () => {
    const port = await freePort();
    let server = await spawnRedis(port);
    const proxy = await startTestProxy({ cache: { store: `redis://127.0.0.1:${port}`, opTimeoutMs: 200, redis: { probeIntervalMs: 100 } } });
    const url = `${origin.url}/r`;
    const cacheNotes = (): Array<string | undefined> =>
      proxy.events.filter((e): e is FlowEnd => e.type === 'flow.end' && e.flow.url === url).map((e) => e.flow.notes.cache);
    try {
      expect((await viaProxy(proxy.url, url)).status).toBe(200);
      await eventually(async () => (await viaProxy(proxy.url, url)).headers['cache-status']?.toString().includes('hit') === true);
      server.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 8; i++) expect((await viaProxy(proxy.url, url)).status).toBe(200);
      expect(cacheNotes().slice(-3)).toEqual(['bypass', 'bypass', 'bypass']);
      server = await spawnRedis(port);
      // The breaker probes, closes, the next miss stores, and a later request hits again.
      await eventually(async () => (await viaProxy(proxy.url, url)).headers['cache-status']?.toString().includes('hit') === true, 10_000);
    } finally {
      server.kill('SIGKILL');
      await proxy.close(100);
    }
  });
});

describe('an access log on a full disk', () => {
  it('one warning, the destination stops, proxying continues', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-full-'));
    await symlink('/dev/full', join(dir, 'access.1.log')); // pino-roll's first file: every write fails with ENOSPC
    const origin = await startHttpOrigin();
    const proxy = await startTestProxy({});
    const lines: string[] = [];
    const log = pino({ level: 'info' }, new Writable({ write(chunk: Buffer, _e, cb) { lines.push(chunk.toString()); cb(); } }));
    const config = validateConfig(forwardConfigSchema, { log: { accessLog: [join(dir, 'access.log')] } }, 'test');
    const observers = await startObservers(proxy.bus, config, { mode: 'forward', version: 'test', log });
    try {
      for (let i = 0; i < 120; i++) expect((await get(proxy.port, `${origin.url}/bytes/2000`)).status).toBe(200);
      await waitFor(() => lines.some((l) => l.includes('access log destination failed')) || undefined);
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 20; i++) expect((await get(proxy.port, `${origin.url}/bytes/2000`)).status).toBe(200);
      const warnings = lines.filter((l) => l.includes('access log destination failed'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('ENOSPC');
    } finally {
      await observers.close();
      await proxy.close(100);
      await origin.close();
    }
  });
});

describe('a certificate store that cannot be used', () => {
  const MAIN = join(import.meta.dirname, '../../dist/main.js');
  function run(args: string[]): Promise<{ code: number | null; err: string }> {
    return new Promise((resolve) => {
      const p = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
      p.on('exit', (code) => { clearTimeout(timer); resolve({ code, err }); });
    });
  }

  it('corrupt files: exit 1 with a message naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-badca-'));
    for (const f of ['ca.pem', 'ca.key', 'leaf.key']) await writeFile(join(dir, f), 'not a certificate\n');
    const r = await run(['forward', '--mitm', '--certs', dir, '--listen', '127.0.0.1:0', '--rules', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`corrupt ${join(dir, 'ca.')}`));
  });

  it('an unreadable file (a directory where ca.pem should be): exit 1 with the reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-badca-'));
    await mkdir(join(dir, 'ca.pem'));
    for (const f of ['ca.key', 'leaf.key']) await writeFile(join(dir, f), 'x\n');
    const r = await run(['forward', '--mitm', '--certs', dir, '--listen', '127.0.0.1:0', '--rules', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot read .*ca\.pem/);
  });
});

describe('a client that leaves before its answer is ready', () => {
  it('a half-close right after the request: the flow ends (499), nothing stays in flight, the upstream body is released', async () => {
    const { rawExchange } = await import('../helpers/raw-http.js');
    const slow = await startHttpOrigin((_req, res) => setTimeout(() => res.end('late'), 100));
    const proxy = await startTestProxy({});
    try {
      for (let i = 0; i < 3; i++) await rawExchange(proxy.port, `GET ${slow.url}/left${i} HTTP/1.1\r\nHost: a\r\n\r\n`, 2000, true);
      const flows = await waitFor(() => {
        const f = proxy.events.filter((e): e is FlowEnd => e.type === 'flow.end' && e.flow.url.includes('/left'));
        return f.length === 3 ? f : undefined;
      });
      expect(flows.map((f) => f.flow.error?.code)).toEqual(['CLIENT_ABORTED', 'CLIENT_ABORTED', 'CLIENT_ABORTED']);
      expect(proxy.stats().inFlight).toBe(0);
    } finally {
      await proxy.close(100);
      await slow.close();
    }
  });
});

describe('stdout on a full disk (the process log and the default access log "-")', () => {
  it('the CLI keeps serving, says so once on stderr, and still stops cleanly on SIGTERM', async () => {
    const origin = await startHttpOrigin();
    const port = await freePort();
    const full = openSync('/dev/full', 'w');
    const child = spawn(process.execPath, [join(import.meta.dirname, '../../dist/main.js'), 'forward', '--listen', `127.0.0.1:${port}`,
      '--allow-target', '127.0.0.0/8', '--rules', await mkdtemp(join(tmpdir(), 'portico-norules-'))], { stdio: ['ignore', full, 'pipe'] });
    closeSync(full);
    let err = '';
    child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    try {
      await eventually(async () => (await get(port, `${origin.url}/echo`)).status === 200, 15_000).catch((e: unknown) => {
        throw new Error(`${String(e)}; exit ${String(child.exitCode)}; stderr: ${err}`);
      });
      for (let i = 0; i < 30; i++) expect((await get(port, `${origin.url}/bytes/3000`)).status).toBe(200);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await Promise.race([exited, new Promise((r) => setTimeout(() => r(['timeout']), 10_000))]) as [number | string];
      expect(code).toBe(0);
      // The process log buffers 4 KiB: its first failed write (at the latest the flush on SIGTERM) is reported, once.
      expect(err.match(/process log \(fd 1\) failed: ENOSPC/g)).toHaveLength(1);
    } finally {
      child.kill('SIGKILL');
      await origin.close();
    }
  }, 40_000);
});
