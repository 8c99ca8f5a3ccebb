import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CONTINUE, type Stage, type Verdict } from '../../../src/core/stage.js';
import { perRouteStage } from '../../../src/reverse/route-stages.js';
import { makeFlow } from '../../helpers/make-flow.js';

const ctx = { clock: { now: () => 0, monotonic: () => 0 }, log: pino({ level: 'silent' }) };

function recorder(log: string[], name: string, verdict: Verdict = CONTINUE, async = false): Stage {
  return {
    name,
    onRequest: () => { log.push(`req ${name}`); return async ? Promise.resolve(verdict) : verdict; },
    onResponse: () => { log.push(`res ${name}`); },
  };
}

const reply: Verdict = { kind: 'reply', head: { status: 401, headers: [] } };

describe('per-route stages', () => {
  it('runs the matched route\'s stages in order, responses in reverse; other routes run nothing', async () => {
    const log: string[] = [];
    const stage = perRouteStage(new Map([['api', [recorder(log, 'a'), recorder(log, 'b', CONTINUE, true), recorder(log, 'c')]]]));
    const flow = makeFlow({ url: 'http://x/' });
    flow.notes.route = 'api';
    expect(await stage.onRequest!(flow, ctx)).toEqual(CONTINUE);
    await stage.onResponse!(flow, ctx);
    expect(log).toEqual(['req a', 'req b', 'req c', 'res c', 'res b', 'res a']);
    const other = makeFlow({ url: 'http://x/' });
    other.notes.route = 'web';
    log.length = 0;
    expect(stage.onRequest!(other, ctx)).toBe(CONTINUE); // synchronous when nothing to run
    await stage.onResponse!(other, ctx);
    expect(log).toEqual([]);
  });

  it('the first answer stops the request path; only stages that ran see the response', async () => {
    const log: string[] = [];
    const stage = perRouteStage(new Map([['api', [recorder(log, 'limit'), recorder(log, 'auth', reply, true), recorder(log, 'cache')]]]));
    const flow = makeFlow({ url: 'http://x/' });
    flow.notes.route = 'api';
    expect(await stage.onRequest!(flow, ctx)).toBe(reply);
    await stage.onResponse!(flow, ctx);
    expect(log).toEqual(['req limit', 'req auth', 'res auth', 'res limit']);
  });

  it('a failing onResponse does not skip the others, and its error reaches the pipeline', async () => {
    const log: string[] = [];
    const bad: Stage = { name: 'bad', onResponse: () => { throw new Error('boom'); } };
    const stage = perRouteStage(new Map([['api', [recorder(log, 'a'), bad, recorder(log, 'c')]]]));
    const flow = makeFlow({ url: 'http://x/' });
    flow.notes.route = 'api';
    await stage.onRequest!(flow, ctx);
    expect(() => stage.onResponse!(flow, ctx)).toThrow('boom');
    expect(log).toEqual(['req a', 'req c', 'res c', 'res a']);
  });
});
