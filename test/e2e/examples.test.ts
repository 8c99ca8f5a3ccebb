import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { mergeConfig, type PlainObject } from '../../src/config/load.js';
import { startDemoBackend, type DemoBackend } from '../../src/demo/backend.js';
import { curl } from '../helpers/curl.js';
import { waitFor } from '../helpers/proxy.js';
import { REDIS_URL, redisMode, testNamespace } from '../helpers/redis.js';

const ROOT = join(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/main.js');
const procs: ChildProcess[] = [];
const backends: DemoBackend[] = [];
let dir: string;

beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'portico-examples-')); });
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => (p.exitCode === null && p.signalCode === null ? once(p, 'exit') : undefined)));
  for (const b of backends) await b.close();
  await rm(dir, { recursive: true, force: true });
});

/** The example file with test overrides (free ports, loopback backends), written to a temp file; started from the repo root. */
async function startExample(example: string, command: string, overrides: PlainObject, ready: RegExp): Promise<string> {
  const original = parse(await readFile(join(ROOT, 'examples', example), 'utf8')) as PlainObject;
  const file = join(dir, example.replaceAll('/', '-'));
  await writeFile(file, stringify(mergeConfig(original, overrides)));
  const proc = spawn(process.execPath, [MAIN, command, '--config', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = once(proc, 'exit').then(([code]) => { throw new Error(`${example} exited ${String(code)}: ${out}`); });
  await Promise.race([waitFor(() => ready.test(out) || undefined, 25_000), exited]);
  return out;
}

const backend = async (id: string): Promise<DemoBackend> => {
  const b = await startDemoBackend({ id, host: '127.0.0.1', port: 0 });
  backends.push(b);
  return b;
};

describe('examples/ start and serve a real request', () => {
  it('office-proxy: policy blocks an ad host, a request reaches the origin, a cacheable answer is a HIT (Redis, 2 workers)', async () => {
    const mode = await redisMode();
    if (mode === 'fail') throw new Error(`Redis is not reachable at ${REDIS_URL} (CI)`);
    const origin = await backend('origin');
    const cache = mode === 'run' ? { store: REDIS_URL, redis: { namespace: testNamespace() } } : { store: 'memory' };
    const out = await startExample('office-proxy/portico.yaml', 'forward',
      { listen: '127.0.0.1:0', admin: { listen: '127.0.0.1:0' }, targets: { allow: ['127.0.0.0/8'] }, cache }, /^portico admin on /m);
    const proxy = /^portico forward listening on (\S+)$/m.exec(out)?.[1] ?? '';
    expect(out).toMatch(/^portico workers: 2 /m);
    const blocked = await curl(['-x', proxy, 'http://ads.example/banner']);
    expect(blocked.status).toBe(403);
    expect(blocked.body).toContain('block-ads-trackers');
    expect((await curl(['-x', proxy, `${origin.url}/hello`])).status).toBe(200);
    const first = await curl(['-x', proxy, `${origin.url}/cacheable?max-age=60`]);
    const second = await curl(['-x', proxy, `${origin.url}/cacheable?max-age=60`]);
    expect(first.status).toBe(200);
    expect(second.headers).toMatch(/Cache-Status: portico; hit/i);
    expect(origin.served()).toBe(2);
  });

  it('reverse-canary: X-Canary: always reaches the canary pool, other requests are served', async () => {
    const [s1, s2, c1] = [await backend('stable-1'), await backend('stable-2'), await backend('canary-1')];
    const out = await startExample('reverse-canary/lb.yaml', 'reverse', {
      listen: '127.0.0.1:0',
      pools: { stable: { backends: [s1.address, s2.address] }, canary: { backends: [c1.address] } },
    }, /^portico reverse listening on /m);
    const url = /^portico reverse listening on (\S+)$/m.exec(out)?.[1] ?? '';
    const canary = await curl(['-H', 'Host: shop.example', '-H', 'X-Canary: always', `${url}/`]);
    expect(canary.status).toBe(200);
    expect(JSON.parse(canary.body)).toMatchObject({ backend: 'canary-1' });
    const never = await curl(['-H', 'Host: shop.example', '-H', 'X-Canary: never', `${url}/`]);
    expect(['stable-1', 'stable-2']).toContain((JSON.parse(never.body) as { backend: string }).backend);
  });

  it('l4-tcp-pool: TCP connections reach the pool\'s backends', async () => {
    const [t1, t2, t3] = [await backend('t1'), await backend('t2'), await backend('t3')];
    const out = await startExample('l4-tcp-pool/l4.yaml', 'l4', {
      listeners: [{ name: 'app', listen: '127.0.0.1:0', pool: 'app' }], admin: { listen: '127.0.0.1:0' },
      pools: { app: { backends: [t1.address, t2.address, { address: t3.address, weight: 2 }] } },
    }, /^portico admin on /m);
    const url = (/^portico l4 listening on tcp:\/\/(\S+)$/m.exec(out)?.[1]) ?? '';
    const r = await curl([`http://${url}/tcp`]);
    expect(r.status).toBe(200);
    expect(['t1', 't2', 't3']).toContain((JSON.parse(r.body) as { backend: string }).backend);
  });

  it('chain: through the L4 entry and the forward proxy to app.portico.test, /admin blocked', async () => {
    const out = await startExample('chain/chain.yaml', 'chain', {
      forward: { listen: '127.0.0.1:0' }, reverse: { listen: '127.0.0.1:0' }, admin: { listen: '127.0.0.1:0' },
      l4: { listeners: [{ listen: '127.0.0.1:0', pool: 'entry' }] },
    }, /Try this:/);
    const entry = /^portico l4 listening on tcp:\/\/(\S+)$/m.exec(out)?.[1] ?? '';
    const viaL4 = await curl(['-x', `http://${entry}`, 'http://app.portico.test/through-l4']);
    expect(viaL4.status).toBe(200);
    expect(JSON.parse(viaL4.body)).toMatchObject({ url: '/through-l4' });
    const proxy = /^portico forward listening on (\S+)$/m.exec(out)?.[1] ?? '';
    const r = await curl(['-x', proxy, 'http://app.portico.test/hello']);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ url: '/hello' });
    expect((await curl(['-x', proxy, 'http://app.portico.test/admin'])).status).toBe(403);
  });
});
