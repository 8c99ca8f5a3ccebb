import { afterEach, describe, expect, it } from 'vitest';
import { mergeConfig, validateConfig } from '../../src/config/load.js';
import { reverseConfigSchema } from '../../src/reverse/config.js';
import { waitFor } from '../helpers/proxy.js';
import { startBackend, startTestReverse, type TestBackend } from '../helpers/reverse.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined); });

const config = (pools: Record<string, unknown>) =>
  validateConfig(reverseConfigSchema, mergeConfig({ listen: '127.0.0.1:0', log: { level: 'silent' } }, { pools }), 'test');

describe('reverse proxy hot reload', () => {
  it('swaps backends under load with zero failed requests, keeping the health of backends that stay', async () => {
    const bs: TestBackend[] = await Promise.all(['b1', 'b2', 'b3', 'b4'].map((n) => startBackend(n)));
    for (const b of bs) cleanup.push(() => b.close());
    const [b1, b2, b3, b4] = bs as [TestBackend, TestBackend, TestBackend, TestBackend];
    const p = await startTestReverse({ pools: { web: { backends: [b1.address, b2.address, b3.address] } } });
    cleanup.push(() => p.close(1_000));
    const web = p.pools().get('web');
    for (let i = 0; i < 3; i++) web?.health.activeResult(b3.address, false, 0, 'test');
    let running = true;
    const statuses: number[] = [];
    const worker = async (): Promise<void> => {
      while (running) {
        const res = await fetch(`${p.url}/`);
        statuses.push(res.status);
        await res.text();
      }
    };
    const workers = [worker(), worker(), worker(), worker()];
    await waitFor(() => statuses.length >= 10);
    await p.reload(config({ web: { backends: [b2.address, b3.address, b4.address], retry: { maxAttempts: 2 } } }));
    const hitsB1 = b1.hits;
    const before = statuses.length;
    await waitFor(() => b4.hits >= 10 && statuses.length >= before + 20, 10_000);
    running = false;
    await Promise.all(workers);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(b1.hits).toBe(hitsB1);
    expect(p.pools().get('web')?.health.state(b3.address, 0)).toBe('down');
    expect(b3.hits).toBe(0);
  });

  it('an unchanged pool is reused as is (same connections and counters)', async () => {
    const b = await startBackend('b');
    cleanup.push(() => b.close());
    const p = await startTestReverse({ pools: { web: { backends: [b.address] } } });
    cleanup.push(() => p.close(1_000));
    const before = p.pools().get('web');
    await p.reload(config({ web: { backends: [b.address] } }));
    expect(p.pools().get('web')).toBe(before);
  });
});
