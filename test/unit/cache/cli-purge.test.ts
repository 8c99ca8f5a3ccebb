import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { purgePlan } from '../../../src/cli/cache.js';
import { entry } from '../../conformance/cache-store.js';
import { REDIS_URL, redisMode, redisStore, testNamespace } from '../../helpers/redis.js';

describe('portico cache purge: what it removes', () => {
  it.each([
    ['http://Example.com:80/a?x=1', {}, { keys: ['http://example.com/a?x=1'], scopes: [{ kind: 'prefix', prefix: 'http://example.com/a?x=1#' }], what: 'http://example.com/a?x=1' }],
    [undefined, { all: true }, { keys: [], scopes: [{ kind: 'all' }], what: 'every entry' }],
    [undefined, {}, 'give exactly one of URL, --host HOST or --all'],
    ['http://a/', { all: true }, 'give exactly one of URL, --host HOST or --all'],
    ['nope', {}, 'not an absolute URL: nope'],
    ['ftp://a/x', {}, 'not an http(s) URL: ftp://a/x'],
  ])('%s %j', (url, flags, expected) => expect(purgePlan(url, flags)).toEqual(expected));
  it('--host covers both schemes, any port', () => {
    const plan = purgePlan(undefined, { host: 'A.example' });
    expect(typeof plan !== 'string' && plan.scopes.map((s) => (s.kind === 'prefix' ? s.prefix : '*'))).toEqual(
      ['http://a.example/', 'http://a.example:', 'https://a.example/', 'https://a.example:']);
  });
});

const mode = await redisMode();

function portico(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env: { ...process.env, PORTICO_TEST_LOG: 'silent' } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('portico cache purge (process)', () => {
  it('explains that the memory store can only be purged through the admin endpoint', async () => {
    const r = await portico(['cache', 'purge', '--all', '--cache', 'memory', '--config', '/dev/null']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/admin endpoint, POST \/cache\/purge/);
  });

  it.runIf(mode === 'run')('removes a URL and its variants from Redis, leaving other URLs', async () => {
    const namespace = testNamespace();
    const store = redisStore({ namespace, opTimeoutMs: 1000 });
    await store.ready(2000);
    try {
      for (const k of ['http://a.test/p', 'http://a.test/p#g#[]', 'http://a.test/pp']) await store.set(k, entry(new Uint8Array([1])), 60_000);
      const cfg = `/tmp/portico-purge-${namespace.replace(/:$/, '')}.yaml`;
      const { writeFile, rm } = await import('node:fs/promises');
      await writeFile(cfg, `cache:\n  store: ${REDIS_URL}\n  redis:\n    namespace: "${namespace}"\n`);
      const r = await portico(['cache', 'purge', 'http://a.test/p', '--config', cfg]);
      await rm(cfg);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toMatch(/^purged http:\/\/a\.test\/p: 4 stored keys removed$/); // entry + body chunk, variant head + body chunk
      expect(await store.get('http://a.test/p#g#[]')).toBeUndefined();
      expect(await store.get('http://a.test/p')).toBeUndefined();
      expect(await store.get('http://a.test/pp')).toBeDefined();
    } finally {
      await store.purge({ kind: 'all' });
      await store.close();
    }
  });
});
