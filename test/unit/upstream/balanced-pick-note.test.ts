import { afterEach, describe, expect, it } from 'vitest';
import { parseBalance } from '../../../src/balance/spec.js';
import { seededRandom } from '../../../src/core/clock.js';
import { createEventBus } from '../../../src/core/events.js';
import type { StageContext } from '../../../src/core/stage.js';
import { BackendPool } from '../../../src/upstream/backend-pool.js';
import { BalancedUpstream } from '../../../src/upstream/balanced.js';
import { makeFlow, testClock } from '../../helpers/make-flow.js';
import { startHttpOrigin } from '../../helpers/origin.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

async function backend(status: number): Promise<string> {
  const o = await startHttpOrigin((_req, res) => { res.writeHead(status); res.end(); });
  cleanup.push(() => o.close());
  return `127.0.0.1:${o.port}`;
}

describe('balanced upstream: the pick note over several attempts', () => {
  it('keeps each attempt\'s reason and why it left each backend, in order', async () => {
    const [busy1, busy2, ok] = await Promise.all([backend(503), backend(503), backend(200)]);
    const pool = new BackendPool({
      name: 'web', balance: parseBalance('round-robin'),
      backends: [busy1, busy2, ok].map((address) => ({ address, weight: 1 })), retry: { backoffBaseMs: 1 },
    }, { clock: testClock, random: seededRandom(1), bus: createEventBus() });
    cleanup.push(() => pool.close());
    const upstream = new BalancedUpstream({ clock: testClock, random: seededRandom(2), pools: new Map([['web', pool]]), defaultPool: 'web' });
    const flow = makeFlow({ url: 'http://app.test/x' });
    const res = await upstream.send(flow, {} as StageContext);
    expect(res.head.status).toBe(200);
    expect(flow.notes).toMatchObject({ backend: ok, upstream: ok, attempts: 3 });
    const parts = (flow.notes.pick ?? '').split('; ');
    expect(parts).toHaveLength(5);
    expect(parts[0]).toMatch(/^round-robin: /);
    expect(parts[1]).toBe(`${busy1} status 503`);
    expect(parts[2]).toMatch(/^retry 2: round-robin: /);
    expect(parts[3]).toBe(`${busy2} status 503`);
    expect(parts[4]).toMatch(/^retry 3: round-robin: /);
    expect(parts[4]).toContain(ok);
  });
});
