import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { ChildProcess } from 'node:child_process';
import { entry } from '../../conformance/cache-store.js';
import { freePort, redisMode, redisStore, spawnRedis } from '../../helpers/redis.js';

const mode = await redisMode();

function capture(): { log: pino.Logger; messages: string[] } {
  const messages: string[] = [];
  const dest = new Writable({ write(chunk: Buffer, _e, cb) { messages.push((JSON.parse(chunk.toString()) as { msg: string }).msg); cb(); } });
  return { log: pino({ level: 'warn' }, dest), messages };
}

describe.runIf(mode === 'run')('Redis outage logging', () => {
  it('logs once when an outage starts and once when it ends, not per request', async () => {
    const port = await freePort();
    let server: ChildProcess = await spawnRedis(port);
    const { log, messages } = capture();
    const store = redisStore({ url: `redis://127.0.0.1:${port}`, probeIntervalMs: 100, log });
    try {
      expect(await store.ready(2000)).toBe(true);
      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
      for (let i = 0; i < 50; i++) await store.get(`http://a.test/${i}`);
      server = await spawnRedis(port);
      const deadline = Date.now() + 8000;
      while (!store.available() && Date.now() < deadline) {
        await store.get('http://a.test/probe');
        await new Promise((r) => setTimeout(r, 50));
      }
      await store.set('http://a.test/after', entry(new Uint8Array([1])), 1000);
      await new Promise((r) => setTimeout(r, 20));
      expect(messages).toEqual([
        'cache store unreachable; requests bypass the cache until it is back',
        'cache store reachable again; caching resumes',
      ]);
    } finally {
      await store.close();
      server.kill('SIGKILL');
    }
  });
});
