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

  it('remembered decisions still tell apart every request field a rule can read (method, port, path, query, user, client)', async () => {
    const fields = policyFrom(`rules:
  - { id: m, action: block, method: DELETE }
  - { id: p, action: block, port: 8080 }
  - { id: pa, action: block, path: "/admin/**" }
  - { id: q, action: block, query: debug=1 }
  - { id: u, action: block, user: mallory }
`);
    const stage = policyStage({ current: () => fields });
    const ruleOf = async (url: string, init: { method?: string; user?: string } = {}): Promise<string | undefined> => {
      const flow = makeFlow({ url, ...(init.method ? { method: init.method } : {}) });
      if (init.user !== undefined) flow.client.user = init.user;
      await stage.onRequest?.(flow, ctx);
      return flow.notes.policy?.rule;
    };
    expect(await ruleOf('http://a.example/x')).toBe('default');
    expect(await ruleOf('http://a.example/x', { method: 'DELETE' })).toBe('m');
    expect(await ruleOf('http://a.example:8080/x')).toBe('p');
    expect(await ruleOf('http://a.example/admin/x')).toBe('pa');
    expect(await ruleOf('http://a.example/x?debug=1')).toBe('q');
    expect(await ruleOf('http://a.example/x', { user: 'mallory' })).toBe('u');
    expect(await ruleOf('http://a.example/x', { user: 'alice' })).toBe('default');
    expect(await ruleOf('http://a.example/x')).toBe('default');
  });

  it('the note is a plain note (what logs and records show), one per flow', async () => {
    const stage = policyStage(source);
    const a = makeFlow({ url: 'http://dl.example/setup.exe' });
    const b = makeFlow({ url: 'http://dl.example/setup.exe' });
    await stage.onRequest?.(a, ctx);
    await stage.onRequest?.(b, ctx);
    expect(a.notes.policy).toEqual({ action: 'allow', rule: 'default', explain: expect.any(String) });
    expect(JSON.parse(JSON.stringify(a.notes.policy))).toEqual(a.notes.policy);
    expect(Object.keys(a.notes.policy ?? {})).toEqual(['action', 'rule', 'explain']);
    expect(a.notes.policy).not.toBe(b.notes.policy);
    const profiled = policyFrom(`rules:
  - { id: ro, action: block, host: ro.example, report-only: true }
  - { id: anon, action: anonymize strict, host: anon.example }
`);
    const other = policyStage({ current: () => profiled });
    const ro = makeFlow({ url: 'http://ro.example/' });
    const anon = makeFlow({ url: 'http://anon.example/' });
    await other.onRequest?.(ro, ctx);
    await other.onRequest?.(anon, ctx);
    expect(Object.keys(ro.notes.policy ?? {})).toEqual(['action', 'rule', 'explain', 'source', 'reportOnly']);
    expect(Object.keys(anon.notes.policy ?? {})).toEqual(['action', 'rule', 'explain', 'source', 'profile']);
    expect(anon.notes.policy).toMatchObject({ action: 'anonymize', rule: 'anon', profile: 'strict' });
  });

  it('the response is decided with the policy its request was decided with, across a reload', async () => {
    let current = policy;
    const stage = policyStage({ current: () => current });
    const respond = async (flow: ReturnType<typeof makeFlow>): Promise<number> => {
      flow.notes.source = 'upstream';
      flow.response = { status: 200, headers: [['Content-Type', 'application/x-msdownload']] };
      flow.responseBody = null;
      await stage.onResponse?.(flow, ctx);
      return flow.response.status;
    };
    const before = makeFlow({ url: 'http://dl.example/setup.exe' });
    await stage.onRequest?.(before, ctx);
    current = policyFrom('rules: []\n'); // reloaded while the origin answers: no content-type rule any more
    expect(await respond(before)).toBe(403);
    const after = makeFlow({ url: 'http://dl.example/setup.exe' });
    await stage.onRequest?.(after, ctx);
    current = policy; // and back: a request decided without content-type rules is not checked on its response
    expect(await respond(after)).toBe(200);
  });
});
