import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultActions } from '../../../src/tui/run.js';
import { mount, keys, type Harness } from './harness.js';
import { record, tunnel } from './fixtures.js';

const flow = (i: number, over = {}) => ({ type: 'flow.end' as const, flow: record({ id: `f${i}`, url: `http://h${i}.test/p${i}`, ...over }) });
/** Waits up to 5 s for the screen to show a text. */
async function frameWith(h: Harness, text: string): Promise<boolean> {
  for (let i = 0; i < 100 && !h.frame().includes(text); i++) await h.tick();
  return h.frame().includes(text);
}
const selectedLine = (h: Harness): string => h.frame().split('\n').find((l) => l.includes('›')) ?? '';

describe('App (ink-testing-library)', () => {
  let h: Harness;
  afterEach(() => h.unmount());

  it('redraws on the frame timer, not per event: 5 000 flows in 200 ms give a handful of frames', async () => {
    h = mount({}, 50);
    await h.tick();
    const before = h.frameCount();
    const start = performance.now();
    for (let burst = 0; burst < 10; burst++) {
      for (let i = 0; i < 500; i++) h.store.add(flow(burst * 500 + i));
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 60));
    const frames = h.frameCount() - before;
    const periods = (performance.now() - start) / 50;
    expect(frames).toBeGreaterThan(0);
    expect(frames).toBeLessThanOrEqual(Math.ceil(periods) + 1); // at most one frame per timer period, whatever the load
    expect(frames).toBeLessThan(50); // and nowhere near one per event
    // The last burst is drawn by the next frame, which a busy machine may not have run 60 ms after it.
    expect(await h.until((f) => f.includes('flows 5000/5000'))).toContain('flows 5000/5000');
    expect(selectedLine(h)).toContain('h4999.test');
  });

  it('renders the header, the column titles, the rows and the generated help footer', async () => {
    h = mount();
    h.store.add(flow(1, { status: 404, notes: { cache: 'miss' } }));
    h.store.add(tunnel());
    const f = await h.until((x) => x.includes('h1.test') && x.includes('secure.test'));
    expect(f).toContain('portico · test (live)');
    expect(f).toContain('host+path');
    expect(f).toMatch(/GET\s+h1\.test\/p1\s+404\s+1\.2K\s+13ms\s+miss/);
    expect(f).toMatch(/CONNECT\s+secure\.test:443\s+TUN/);
    expect(f).toContain('↑/k up');
    expect(f).toContain('q quit');
  });

  it('shows the mode\'s live gauges when the source has them (in-process)', async () => {
    h = mount({ gauges: () => ({ inFlight: 3, tunnels: 2 }) });
    expect(await h.until((f) => f.includes('in-flight'))).toContain('in-flight 3  tunnels 2');
  });

  it('moves with j/k and arrows; "jjj" in one chunk moves three rows', async () => {
    h = mount();
    for (let i = 0; i < 8; i++) h.store.add(flow(i));
    await h.until(() => selectedLine(h) !== '');
    expect(selectedLine(h)).toContain('h7.test');
    await h.type('kkkk');
    expect(selectedLine(h)).toContain('h3.test');
    await h.type('jjj');
    expect(selectedLine(h)).toContain('h6.test');
    await h.type(keys.up);
    expect(selectedLine(h)).toContain('h5.test');
    await h.type(keys.down);
    expect(selectedLine(h)).toContain('h6.test');
  });

  it('filters from the / prompt, shows a parse error with its position, Esc cancels', async () => {
    h = mount();
    for (let i = 0; i < 4; i++) h.store.add(flow(i, i === 2 ? { method: 'POST' } : {}));
    await h.tick();
    await h.type('/');
    await h.type('~m post');
    expect(h.frame()).toContain('filter: ~m post▏  1 match');
    await h.type(' & (');
    expect(h.frame()).toContain('expected a filter (at 11)'); // shown while typing
    await h.type(keys.enter);
    expect(h.frame()).toContain('expected a filter (at 11)');
    await h.type(keys.backspace);
    await h.type(keys.backspace);
    await h.type(keys.backspace);
    await h.type(keys.backspace);
    await h.type(keys.enter);
    const f = h.frame();
    expect(f).toContain('filter: ~m post');
    expect(f).toContain('flows 1/4');
    expect(f).toContain('h2.test');
    expect(f).not.toContain('h1.test');
    await h.type('/');
    await h.type('zzz');
    await h.type(keys.esc);
    expect(await h.until((x) => !x.includes('zzz'))).toContain('filter: ~m post');
  });

  it('opens a detail view with Enter (policy, anonymization, timings, headers) and goes back with Esc', async () => {
    h = mount();
    h.store.add(flow(1, {
      notes: { policy: { action: 'allow', rule: 'office', explain: 'allow by rule office', source: 'rules/policy.yaml:3' },
        anonymized: ['removed X-Forwarded-For'], cache: 'hit' },
      requestHeaders: [['user-agent', 'curl/8']], responseHeaders: [['content-type', 'text/html']],
    }));
    await h.tick();
    await h.type(keys.enter);
    let f = h.frame();
    expect(f).toContain('GET http://h1.test/p1  →  200');
    expect(f).toContain('policy: allow by rule office (rules/policy.yaml:3)');
    expect(f).toContain('origin saw (anonymized): removed X-Forwarded-For');
    expect(f).toContain('first byte 3ms  total 13ms');
    expect(f).toContain('user-agent: curl/8');
    expect(f).toContain('content-type: text/html');
    expect(f).toContain('x curl');
    await h.type('x');
    f = await h.until((x) => x.includes('written to'));
    expect(f).toContain('curl http://h1.test/p1');
    expect(f).toContain('written to /tmp/portico-flow-f1.sh');
    await h.type('r');
    expect(await h.until((x) => x.includes('replayed'))).toContain('replayed http://h1.test/p1: 200');
    await h.type('w');
    expect(await h.until((x) => x.includes('saved as HAR'))).toContain('1 flows saved as HAR to /tmp/x.har');
    expect(h.calls).toEqual(['curl f1', 'replay f1', 'har 1']);
    await h.type(keys.esc);
    expect(await h.until((x) => x.includes('host+path'))).toContain('host+path');
  });

  it('says in the detail view, the curl line and the script when a request body was truncated (real x action)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-tui-'));
    const source = { label: 't', start: () => {}, status: () => 'live' as const, close: () => {} };
    const real = defaultActions({ source, dir }, { now: () => 0, monotonic: () => 0 }, () => {});
    h = mount({}, 5, { writeCurl: real.writeCurl, replay: real.replay });
    h.store.add(flow(1, { method: 'POST', bytesIn: 300, requestBody: '{"name":"a long' }));
    await h.tick();
    await h.type(keys.enter);
    expect(h.frame()).toContain('request body truncated: only the first 15 of 300 bytes were captured');
    await h.type('x'); // the real action writes a file: wait for it (bounded) instead of one tick on a busy machine
    expect(await frameWith(h, '# NOTE: request body truncated')).toBe(true);
    expect(await readFile(join(dir, 'portico-flow-f1.sh'), 'utf8')).toContain('request body NOT included');
    await h.type('r');
    expect(await frameWith(h, 'replay needs the proxy URL')).toBe(true);
  });

  it('scrolls a detail view that does not fit with j/k, keeping the request line', async () => {
    h = mount();
    const many: Array<[string, string]> = Array.from({ length: 40 }, (_, i) => [`x-h${i}`, `v${i}`]);
    h.store.add(flow(1, { requestHeaders: [['accept', '*/*']], responseHeaders: many }));
    await h.tick();
    await h.type(keys.enter);
    expect(h.frame()).toMatch(/… \d+ more lines \(j\/k scroll\)/);
    expect(h.frame()).not.toContain('x-h39: v39');
    await h.type('j'.repeat(60));
    let f = h.frame();
    expect(f).toContain('GET http://h1.test/p1  →  200');
    expect(f).toContain('x-h39: v39');
    expect(f).not.toContain('more lines');
    await h.type('k');
    f = h.frame();
    expect(f).toContain('x-h37: v37');
    expect(f).toContain('… 2 more lines'); // x-h38 and x-h39, below
    expect(f).not.toContain('x-h39: v39');
  });

  it('pause freezes the list while the header counts buffered flows; c clears', async () => {
    h = mount();
    h.store.add(flow(1));
    await h.type('p');
    h.store.add(flow(2));
    let f = await h.until((x) => x.includes('(+1 buffered)'));
    expect(f).toContain('PAUSED (+1 buffered)');
    expect(f).not.toContain('h2.test');
    await h.type('p');
    f = h.frame();
    expect(f).toContain('h2.test');
    expect(f).not.toContain('PAUSED');
    await h.type('c');
    f = h.frame();
    expect(f).toContain('no flows yet');
    expect(f).toContain('flows 0/0');
  });

  it('shows backends (empty state, then pools from /upstreams), help with ?, and quits with q', async () => {
    let body: unknown = { pools: [] };
    h = mount({ upstreams: async () => body });
    await h.type('b');
    expect(h.frame()).toContain('no backend pools');
    h.controller.backendsRefreshMs = 20;
    body = { pools: [{ name: 'api', backends: [{ id: '127.0.0.1:9001', state: 'up', active: 2, ewmaMs: 4.5 }] }] };
    // Refreshed while shown: every 20 ms of frame ticks, which a busy machine runs late (two fixed ticks were not enough).
    expect(await h.until((f) => f.includes('127.0.0.1:9001'))).toMatch(/api\s+127\.0\.0\.1:9001\s+up\s+active\s+2\s+ewma 4\.5ms/);
    await h.type(keys.esc);
    await h.type('b');
    await h.type('?');
    expect(h.frame()).toContain('Keys');
    expect(h.frame()).toMatch(/x\s+curl\s+detail/);
    await h.type(keys.esc);
    expect(await h.until((x) => x.includes('Backends'))).toContain('Backends');
    await h.type('q');
    expect(h.calls).toContain('quit');
  });
});
