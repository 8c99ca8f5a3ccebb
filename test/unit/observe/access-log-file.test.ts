import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventBus } from '../../../src/core/events.js';
import { startAccessLog } from '../../../src/observe/access-log/index.js';
import { record } from './records.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function settle(): Promise<void> {
  await new Promise((r) => setImmediate(r));
}

describe('access log to a file', () => {
  it('writes squid lines and rotates by size (pino-roll)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-log-'));
    dirs.push(dir);
    const bus = createEventBus();
    const log = await startAccessLog(bus, { format: 'squid', accessLog: [join(dir, 'access.log')], rotate: { size: '1k', count: 10 } });
    for (let i = 0; i < 40; i++) {
      bus.emit({ type: 'flow.end', flow: record({ id: `f${i}`, url: `http://example.test/${'x'.repeat(40)}/${i}` }) });
      await settle();
      await log?.flush();
    }
    await log?.close();
    const files = readdirSync(dir).sort();
    expect(files.length).toBeGreaterThan(1);
    const all = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    const lines = all.trim().split('\n');
    expect(lines).toHaveLength(40);
    expect(lines.every((l) => / TCP_MISS\/200 1234 GET http:\/\/example\.test\//.test(l))).toBe(true);
  });

  it('is off with no destination', async () => {
    expect(await startAccessLog(createEventBus(), { format: 'json', accessLog: [], rotate: { count: 1 } })).toBeUndefined();
  });
});
