import { describe, expect, it } from 'vitest';
import { FlowStore } from '../../../src/tui/store.js';
import { fakeClock, record, tunnel } from './fixtures.js';

const flow = (i: number, over = {}) => ({ type: 'flow.end' as const, flow: record({ id: `f${i}`, url: `http://h${i % 3}.test/${i}`, ...over }) });
const ids = (s: FlowStore, rows = 100): string[] => s.window(rows).rows.map((e) => e.flow.id);

describe('FlowStore', () => {
  it('stays bounded: 50 000 flows into a 10 000 ring keep the newest 10 000', () => {
    const s = new FlowStore({ clock: fakeClock() });
    for (let i = 0; i < 50_000; i++) s.add(flow(i));
    expect(s.size).toBe(10_000);
    expect(s.shown()).toHaveLength(10_000);
    expect(s.shown()[0]?.flow.id).toBe('f40000');
    expect(s.selected()?.flow.id).toBe('f49999');
    expect(s.counters.snapshot().total).toBe(50_000);
  });

  it('filters the buffered flows and new ones; a bad filter keeps the old one', () => {
    const s = new FlowStore({ clock: fakeClock(), capacity: 10 });
    for (let i = 0; i < 6; i++) s.add(flow(i));
    expect(s.setFilter('~d h1').ok).toBe(true);
    expect(ids(s)).toEqual(['f1', 'f4']);
    s.add(flow(7));
    s.add(flow(10));
    expect(ids(s)).toEqual(['f1', 'f4', 'f7', 'f10']);
    const bad = s.setFilter('~d');
    expect(bad.ok).toBe(false);
    expect(s.filterText).toBe('~d h1');
    expect(ids(s)).toEqual(['f1', 'f4', 'f7', 'f10']);
  });

  it('evicts filtered rows together with the ring', () => {
    const s = new FlowStore({ clock: fakeClock(), capacity: 4 });
    s.setFilter('~d h0');
    for (let i = 0; i < 9; i++) s.add(flow(i));
    expect(ids(s)).toEqual(['f6']); // the ring holds f5..f8
  });

  it('follows the newest flow until the user moves up, and again at the bottom', () => {
    const s = new FlowStore({ clock: fakeClock() });
    for (let i = 0; i < 5; i++) s.add(flow(i));
    expect(s.selected()?.flow.id).toBe('f4');
    s.move(-2);
    s.add(flow(5));
    expect(s.selected()?.flow.id).toBe('f2');
    s.move(+10);
    s.add(flow(6));
    expect(s.selected()?.flow.id).toBe('f6');
  });

  it('scrolls a window around the selection', () => {
    const s = new FlowStore({ clock: fakeClock() });
    for (let i = 0; i < 20; i++) s.add(flow(i));
    let w = s.window(5);
    expect(w.rows.map((e) => e.flow.id)).toEqual(['f15', 'f16', 'f17', 'f18', 'f19']);
    expect(w.cursor).toBe(4);
    s.move(-6);
    w = s.window(5);
    expect(w.rows[w.cursor]?.flow.id).toBe('f13');
    expect(w.cursor).toBe(0);
    s.move(1);
    w = s.window(5);
    expect(w.rows[0]?.flow.id).toBe('f13'); // the window does not jump while the selection is inside it
    expect(w.cursor).toBe(1);
  });

  it('pause freezes the list but keeps buffering; resume shows everything', () => {
    const s = new FlowStore({ clock: fakeClock() });
    s.add(flow(0));
    s.togglePause();
    s.add(flow(1));
    s.add(flow(2));
    expect(ids(s)).toEqual(['f0']);
    expect(s.buffered).toBe(2);
    expect(s.counters.snapshot().total).toBe(3);
    s.togglePause();
    expect(ids(s)).toEqual(['f0', 'f1', 'f2']);
  });

  it('shows a flow delivered twice once (SSE backfill after a reconnect), and forgets evicted ids', () => {
    const s = new FlowStore({ clock: fakeClock(), capacity: 3 });
    s.add(flow(1));
    s.add(flow(1));
    expect(ids(s)).toEqual(['f1']);
    for (let i = 2; i <= 4; i++) s.add(flow(i));
    s.add(flow(1)); // f1 was evicted: it is new again
    expect(ids(s)).toEqual(['f3', 'f4', 'f1']);
  });

  it('clear empties the list and the counters', () => {
    const s = new FlowStore({ clock: fakeClock() });
    for (let i = 0; i < 3; i++) s.add(flow(i));
    s.clear();
    expect(ids(s)).toEqual([]);
    expect(s.selected()).toBeUndefined();
    expect(s.counters.snapshot().total).toBe(0);
    s.add(flow(9));
    expect(s.selected()?.flow.id).toBe('f9');
  });

  it('counts rates over a sliding window, hit ratio, blocked, errors, open tunnels and drops', () => {
    const clock = fakeClock();
    const s = new FlowStore({ clock, windowMs: 5_000 });
    for (let i = 0; i < 10; i++) s.add(flow(i, { bytesIn: 100, bytesOut: 400, notes: { cache: i < 3 ? 'hit' : 'miss', tunnel: 't1' } }));
    s.add(flow(10, { status: 403, notes: { policy: { action: 'block', rule: 'r', explain: '' } } }));
    s.add(flow(11, { status: 502, error: { code: 'CONNECT_REFUSED', message: 'x' } }));
    s.add({ type: 'dropped', dropped: 7 });
    let c = s.counters.snapshot();
    expect(c.reqPerSec).toBeCloseTo(12 / 5);
    expect(c.bytesPerSec).toBeCloseTo((10 * 500 + 2 * 1234) / 5);
    expect(c.hitRatio).toBeCloseTo(0.3);
    expect([c.blocked, c.errors, c.openTunnels, c.dropped]).toEqual([1, 1, 1, 7]);
    s.add(tunnel({ id: 't1', intercepted: true }));
    clock.advance(6_000);
    c = s.counters.snapshot();
    expect([c.reqPerSec, c.bytesPerSec, c.openTunnels, c.total]).toEqual([0, 0, 0, 13]);
  });

  it('keeps backend health from events', () => {
    const s = new FlowStore({ clock: fakeClock() });
    s.add({ type: 'backend.health', pool: 'api', backend: '10.0.0.1:80', state: 'down', reason: 'probe failed' });
    s.backends.upstreams({ pools: [{ name: 'api', backends: [{ id: '10.0.0.1:80', active: 3, ewmaMs: 12 }] }] });
    expect(s.backends.list()).toMatchObject([{ pool: 'api', state: 'down', active: 3, ewmaMs: 12 }]);
  });
});
