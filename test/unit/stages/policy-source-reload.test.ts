import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createEventBus, type ProxyEvent } from '../../../src/core/events.js';
import { createPolicySource } from '../../../src/stages/policy-source.js';

const options = { defaultAction: 'allow' as const, reportOnly: false, timeZone: 'UTC', groups: {} };

describe('policy source reloads', () => {
  it('a reload asked for during another one is answered only after a pass that started after it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-policy-reload-'));
    await writeFile(join(dir, 'policy.yaml'), 'rules:\n  - id: one\n    action: block\n    host: one.example\n');
    const bus = createEventBus();
    const events: ProxyEvent[] = [];
    bus.subscribe((e) => events.push(e));
    let passes = 0; // reload passes finished, counted synchronously from the log line each one writes
    const log = pino({ level: 'info' }, { write: (line: string) => { if (line.includes('"reason":"watch"')) passes++; } });
    const source = await createPolicySource({ dir, watch: false, debounceMs: 10, options }, { log, bus });
    const first = source.reload('watch');
    // The file changes while the first pass may already have read it; SIGHUP comes after the edit.
    await writeFile(join(dir, 'policy.yaml'), 'rules:\n  - id: two\n    action: block\n    host: two.example\n');
    const second = source.reload('SIGHUP');
    expect(await second).toBe(true);
    expect(passes).toBe(2); // not only the pass that was running when it was asked
    expect(source.current().rules.map((r) => r.id)).toEqual(['two']);
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(events.filter((e) => e.type === 'config.reload')).toHaveLength(2); // the first pass and the one asked for
    source.close();
  });
});
