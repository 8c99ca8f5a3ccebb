import { describe, expect, it } from 'vitest';
import { createEventBus, type ProxyEvent } from '../../../src/core/events.js';

const reload = (ok: boolean): ProxyEvent => ({ type: 'config.reload', ok });
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('EventBus', () => {
  it('is idle without subscribers and delivers asynchronously in order', async () => {
    const bus = createEventBus();
    expect(bus.idle).toBe(true);
    const seen: boolean[] = [];
    bus.subscribe((e) => { if (e.type === 'config.reload') seen.push(e.ok); });
    expect(bus.idle).toBe(false);
    bus.emit(reload(true));
    bus.emit(reload(false));
    expect(seen).toEqual([]);
    await tick();
    expect(seen).toEqual([true, false]);
  });

  it('a subscriber may take only some types; wants() says which types anyone takes', async () => {
    const bus = createEventBus();
    expect(bus.wants('flow.end')).toBe(false);
    const health: string[] = [];
    const sub = bus.subscribe((e) => { health.push(e.type); }, { types: ['backend.health'] });
    expect([bus.idle, bus.wants('flow.end'), bus.wants('backend.health')]).toEqual([false, false, true]);
    bus.emit(reload(true));
    bus.emit({ type: 'backend.health', pool: 'p', backend: 'b', state: 'down', reason: 'x' });
    await tick();
    expect(health).toEqual(['backend.health']);
    const all = bus.subscribe(() => undefined);
    expect(bus.wants('flow.end')).toBe(true);
    all.close();
    all.close(); // twice: counted once
    expect(bus.wants('flow.end')).toBe(false);
    sub.close();
    expect([bus.idle, bus.wants('backend.health')]).toEqual([true, false]);
  });

  it('drops and counts events beyond a slow subscriber\'s buffer instead of growing', async () => {
    const bus = createEventBus();
    let got = 0;
    const sub = bus.subscribe(() => { got++; }, { buffer: 3 });
    for (let i = 0; i < 10; i++) bus.emit(reload(true));
    await tick();
    expect(got).toBe(3);
    expect(sub.dropped()).toBe(7);
  });

  it('isolates a throwing subscriber and stops delivering after close', async () => {
    const errors: unknown[] = [];
    const bus = createEventBus((e) => errors.push(e));
    let good = 0;
    bus.subscribe(() => { throw new Error('observer bug'); });
    const sub = bus.subscribe(() => { good++; });
    expect(() => bus.emit(reload(true))).not.toThrow();
    await tick();
    expect(errors).toHaveLength(1);
    expect(good).toBe(1);
    sub.close();
    bus.emit(reload(true));
    await tick();
    expect(good).toBe(1);
  });

  it('delivers the events already queued when a subscriber closes, then nothing more (a shutdown keeps its last flows)', async () => {
    const bus = createEventBus();
    let got = 0;
    const sub = bus.subscribe(() => { got++; });
    bus.emit(reload(true));
    bus.emit(reload(false));
    expect(got).toBe(0); // delivery is asynchronous
    sub.close();
    expect(got).toBe(2);
    bus.emit(reload(true));
    await tick();
    expect(got).toBe(2);
  });
});
