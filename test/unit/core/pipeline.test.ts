import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { createEventBus, type ProxyEvent } from '../../../src/core/events.js';
import { ProxyError } from '../../../src/core/errors.js';
import type { Flow } from '../../../src/core/flow.js';
import { Pipeline } from '../../../src/core/pipeline.js';
import type { Stage, Upstream } from '../../../src/core/stage.js';
import { CONTINUE } from '../../../src/core/stage.js';

const clock = { now: () => 1_700_000_000_000, monotonic: () => 5 };
const ctx = { clock, log: pino({ level: 'silent' }) };

function flow(): Flow {
  return {
    id: 't1', mode: 'forward', signal: new AbortController().signal, client: { ip: '127.0.0.1', port: 1 },
    startedAt: clock.now(), request: { method: 'GET', url: new URL('http://a.test/'), version: '1.1', headers: [] },
    requestBody: null, notes: {}, timings: { start: 0 }, bytesIn: 0, bytesOut: 0,
  };
}

function recorder(name: string, log: string[], verdict?: Stage['onRequest']): Stage {
  return {
    name,
    onRequest: verdict ?? (() => { log.push(`${name}.req`); return CONTINUE; }),
    onResponse: () => { log.push(`${name}.res`); },
  };
}

const okUpstream = (log: string[]): Upstream => ({
  send: async () => { log.push('upstream'); return { head: { status: 200, headers: [] }, body: null }; },
});

describe('Pipeline', () => {
  it('runs onRequest in order, the upstream, then onResponse in reverse', async () => {
    const log: string[] = [];
    const p = new Pipeline([recorder('a', log), recorder('b', log)], okUpstream(log), ctx, createEventBus());
    const f = flow();
    expect(await p.run(f)).toEqual({ outcome: 'respond' });
    expect(log).toEqual(['a.req', 'b.req', 'upstream', 'b.res', 'a.res']);
    expect(f.response?.status).toBe(200);
    expect(f.notes.source).toBe('upstream');
  });

  it('a reply short-circuits: later stages and the upstream are skipped, earlier onResponse still runs', async () => {
    const log: string[] = [];
    const block: Stage['onRequest'] = () => { log.push('b.req'); return { kind: 'reply', head: { status: 403, headers: [] }, body: new Uint8Array([1]) }; };
    const p = new Pipeline([recorder('a', log), recorder('b', log, block), recorder('c', log)], okUpstream(log), ctx, createEventBus());
    const f = flow();
    await p.run(f);
    expect(log).toEqual(['a.req', 'b.req', 'b.res', 'a.res']);
    expect(f.response?.status).toBe(403);
    expect(f.notes.source).toBe('local');
  });

  it('runNow answers in the same turn when every stage is synchronous and one replies; a promise otherwise', async () => {
    const log: string[] = [];
    const reply: Stage['onRequest'] = () => { log.push('b.req'); return { kind: 'reply', head: { status: 200, headers: [] } }; };
    const sync = new Pipeline([recorder('a', log), recorder('b', log, reply)], okUpstream(log), ctx, createEventBus());
    const f = flow();
    const now = sync.runNow(f);
    expect(now).toEqual({ outcome: 'respond' }); // not a promise: nothing was awaited
    expect(log).toEqual(['a.req', 'b.req', 'b.res', 'a.res']);
    expect(f.notes.source).toBe('local');
    const slow: Stage['onRequest'] = async () => { log.push('s.req'); return CONTINUE; };
    const mixed = new Pipeline([recorder('s', log, slow), recorder('b', log, reply)], okUpstream(log), ctx, createEventBus());
    log.length = 0;
    const later = mixed.runNow(flow());
    expect(later).toBeInstanceOf(Promise);
    expect(await later).toEqual({ outcome: 'respond' });
    expect(log).toEqual(['s.req', 'b.req', 'b.res', 's.res']);
    const upstream = new Pipeline([recorder('a', log)], okUpstream(log), ctx, createEventBus());
    log.length = 0;
    const forwarded = upstream.runNow(flow());
    expect(forwarded).toBeInstanceOf(Promise);
    expect(await forwarded).toEqual({ outcome: 'respond' });
    expect(log).toEqual(['a.req', 'upstream', 'a.res']);
  });

  it('a stage that rejects or throws after an awaited one still funnels into an error page, and earlier onResponse runs', async () => {
    const log: string[] = [];
    const slow: Stage['onRequest'] = async () => { log.push('s.req'); return CONTINUE; };
    const bad: Stage['onRequest'] = async () => { log.push('x.req'); throw new TypeError('bug'); };
    const p = new Pipeline([recorder('s', log, slow), recorder('x', log, bad), recorder('c', log)], okUpstream(log), ctx, createEventBus());
    const f = flow();
    expect(await p.runNow(f)).toEqual({ outcome: 'respond' });
    expect(log).toEqual(['s.req', 'x.req', 'x.res', 's.res']);
    expect(f.response?.status).toBe(500);
  });

  it('kill asks the front door to close without a response', async () => {
    const p = new Pipeline([recorder('k', [], () => ({ kind: 'kill', reason: 'test' }))], okUpstream([]), ctx, createEventBus());
    expect(await p.run(flow())).toEqual({ outcome: 'kill' });
  });

  it('funnels upstream and stage failures into flow.error with an error page, never a throw', async () => {
    const failing: Upstream = { send: async () => { throw new ProxyError('CONNECT_REFUSED', 'refused by a.test:80'); } };
    const f = flow();
    await new Pipeline([], failing, ctx, createEventBus()).run(f);
    expect(f.error?.code).toBe('CONNECT_REFUSED');
    expect(f.response?.status).toBe(502);
    const g = flow();
    await new Pipeline([recorder('x', [], () => { throw new TypeError('bug'); })], okUpstream([]), ctx, createEventBus()).run(g);
    expect(g.error?.code).toBe('INTERNAL');
    expect(g.response?.status).toBe(500);
  });

  it('complete() emits exactly one flow.end record', async () => {
    const bus = createEventBus();
    const events: ProxyEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const p = new Pipeline([], okUpstream([]), ctx, bus);
    const f = flow();
    await p.run(f);
    p.complete(f);
    await new Promise((r) => setImmediate(r));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'flow.end', flow: { id: 't1', status: 200, method: 'GET', url: 'http://a.test/' } });
  });
});
