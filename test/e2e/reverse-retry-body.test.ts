import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/proxy.js';
import { freePort } from '../helpers/ports.js';
import { startBackend, startTestReverse } from '../helpers/reverse.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined); });

async function setup(replayBodyBytes: number) {
  const dead = `127.0.0.1:${await freePort()}`; // nothing listens: connection refused
  const got: string[] = [];
  const alive = await startBackend('alive', (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString(); });
    req.on('end', () => { got.push(body); res.end(`alive got ${body.length}`); });
  });
  cleanup.push(() => alive.close());
  const p = await startTestReverse({
    pools: { web: { backends: [dead, alive.address], balance: 'round-robin', retry: { replayBodyBytes }, outlier: { consecutiveFailures: 0 } } },
  });
  cleanup.push(() => p.close(500));
  return { p, dead, got };
}

describe('retry with request-body replay', () => {
  it('a POST with a small body reaches the live backend whole when the first pick refused the connection', async () => {
    const { p, dead, got } = await setup(64 * 1024);
    const body = 'x'.repeat(10_000);
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${p.url}/submit`, { method: 'POST', body });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('alive got 10000');
    }
    expect(got).toEqual([body, body, body, body]);
    // Events reach subscribers asynchronously: wait for all four flows instead of a fixed 20 ms.
    const ends = await waitFor(() => { const f = p.events.filter((e) => e.type === 'flow.end'); return f.length >= 4 ? f : undefined; });
    const retried = ends.filter((e) => e.type === 'flow.end' && e.flow.notes.attempts === 2);
    expect(retried.length).toBeGreaterThanOrEqual(1);
    expect(retried[0]?.type === 'flow.end' && retried[0].flow.notes.pick).toContain(`${dead} CONNECT_REFUSED`);
  });

  it('a body larger than the buffer is never retried: the request that picked the dead backend fails, the others pass', async () => {
    const { p, got } = await setup(1024);
    const body = 'y'.repeat(4096);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${p.url}/submit`, { method: 'POST', body });
      statuses.push(res.status);
      await res.text();
    }
    expect(statuses.filter((s) => s === 200).length).toBe(got.length);
    expect(statuses.filter((s) => s === 502).length).toBeGreaterThanOrEqual(1);
    expect(got.every((b) => b === body)).toBe(true);
    // All four flows, not whatever arrived within a fixed 20 ms: a retried one must be among them to be caught.
    const ends = await waitFor(() => { const f = p.events.filter((e) => e.type === 'flow.end'); return f.length >= 4 ? f : undefined; });
    expect(ends.some((e) => e.type === 'flow.end' && (e.flow.notes.attempts ?? 0) > 1)).toBe(false);
  });
});
