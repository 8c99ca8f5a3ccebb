import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { StageContext } from '../../../src/core/stage.js';
import { connectPolicy, policyStage } from '../../../src/stages/policy.js';
import { makeFlow, testClock } from '../../helpers/make-flow.js';
import { policyFrom } from '../policy/build.js';

const policy = policyFrom(`rules:
  - { id: exe, action: block, content-type: application/x-msdownload }
  - { id: ads, action: block, host: .ads.example }
  - { id: pinned, action: no-mitm, host: bank.example }
`);
const source = { current: () => policy };
const ctx: StageContext = { clock: testClock, log: pino({ level: 'silent' }) };

describe('policy stage', () => {
  it('blocks with a 403 page and notes the decision', async () => {
    const flow = makeFlow({ url: 'http://x.ads.example/a', headers: [['Accept', 'text/html']] });
    const v = await policyStage(source).onRequest?.(flow, ctx);
    expect(v?.kind).toBe('reply');
    expect(v?.kind === 'reply' && v.head.status).toBe(403);
    expect(flow.notes.policy).toMatchObject({ action: 'block', rule: 'ads', source: 'rules/policy.yaml:3' });
  });

  it('re-decides on the response content type and replaces the body', async () => {
    const stage = policyStage(source);
    const flow = makeFlow({ url: 'http://dl.example/setup.exe' });
    expect((await stage.onRequest?.(flow, ctx))?.kind).toBe('continue');
    let destroyed = false;
    const body = Object.assign((async function* () { yield new Uint8Array(1); })(), { destroy: () => { destroyed = true; } });
    flow.notes.source = 'upstream';
    flow.response = { status: 200, headers: [['Content-Type', 'application/x-msdownload']] };
    flow.responseBody = body;
    await stage.onResponse?.(flow, ctx);
    expect(flow.response.status).toBe(403);
    expect(destroyed).toBe(true);
    expect(flow.notes.policy?.rule).toBe('exe');
  });

  it('a content-type rule only overrides the request decision when it comes before the rule that decided', async () => {
    const ordered = policyFrom(`rules:
  - { id: ok-host, action: allow, host: trusted.example }
  - { id: exe, action: block, content-type: application/x-msdownload }
  - { id: tag, action: bypass-cache, host: later.example }
  - { id: default, action: allow, host: named-default.example }
`);
    const stage = policyStage({ current: () => ordered });
    const run = async (url: string): Promise<number> => {
      const flow = makeFlow({ url });
      expect((await stage.onRequest?.(flow, ctx))?.kind).toBe('continue');
      flow.notes.source = 'upstream';
      flow.response = { status: 200, headers: [['content-type', 'application/x-msdownload; charset=binary']] };
      flow.responseBody = null;
      await stage.onResponse?.(flow, ctx);
      return flow.response.status;
    };
    expect(await run('http://trusted.example/setup.exe')).toBe(200); // allowed by the earlier rule
    expect(await run('http://later.example/setup.exe')).toBe(403); // the content-type rule comes first
    expect(await run('http://named-default.example/setup.exe')).toBe(403); // a rule named "default" is still a rule
    expect(await run('http://elsewhere.example/setup.exe')).toBe(403); // no rule matched the request
  });

  it('at CONNECT: blocks by host only and reports no-mitm', () => {
    const c = connectPolicy(source, ctx);
    expect(c.checkConnect({ host: 'x.ads.example', port: 443 }, { ip: '127.0.0.1' }).block).toContain('block by rule ads');
    expect(c.checkConnect({ host: 'bank.example', port: 443 }, { ip: '127.0.0.1' })).toEqual({ noMitm: true });
    expect(c.checkConnect({ host: 'dl.example', port: 443 }, { ip: '127.0.0.1' })).toEqual({ noMitm: false });
  });

  it('remembers decisions per request and minute, but a time window still opens on its minute and a reload still counts', async () => {
    const lunch = policyFrom(`rules:
  - { id: lunch, action: block, host: social.example, time: "weekdays 12:00-13:00" }
`, {}, { timeZone: 'UTC' });
    let current = lunch;
    let now = Date.UTC(2026, 10, 27, 11, 59, 30); // a Friday
    const clock = { now: () => now, monotonic: () => 0 };
    const stage = policyStage({ current: () => current });
    const decideAt = async (url = 'http://social.example/'): Promise<string | undefined> => {
      const flow = makeFlow({ url });
      await stage.onRequest?.(flow, { ...ctx, clock });
      return flow.notes.policy?.rule;
    };
    expect(await decideAt()).toBe('default');
    now += 20_000; // 11:59:50, same minute: remembered, same answer
    expect(await decideAt()).toBe('default');
    now += 10_000; // 12:00:00: the window opens
    expect(await decideAt()).toBe('lunch');
    expect(await decideAt('http://other.example/')).toBe('default');
    current = policyFrom('rules: []\n'); // a reload: the old policy's decisions are not reused
    expect(await decideAt()).toBe('default');
  });
});

