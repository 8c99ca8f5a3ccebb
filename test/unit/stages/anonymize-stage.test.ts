import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { StageContext } from '../../../src/core/stage.js';
import { anonymizeStage, type AnonymizeConfig } from '../../../src/stages/anonymize.js';
import { policyStage } from '../../../src/stages/policy.js';
import { makeFlow, testClock } from '../../helpers/make-flow.js';
import { policyFrom } from '../policy/build.js';

/**
 * The stage's wiring (stages/anonymize.ts) with a real compiled policy: which hosts are trackers comes from the
 * categories of the policy in force, the profile from the configured default or the policy's decision.
 */

const policy = policyFrom('rules:\n  - { id: strictly, action: anonymize strict, path: /strict/** }\n', {
  trackers: '0.0.0.0 tracker.example\n',
  ads: 'ads.example\n',
  social: 'social.example\n',
});
const source = { current: () => policy };
const ctx: StageContext = { clock: testClock, log: pino({ level: 'silent' }) };
const base: AnonymizeConfig = { profile: 'strict', userAgent: 'Common/1', trackingParams: ['utm_*'], forwarded: false, trackerCategories: ['trackers', 'ads'] };

async function run(url: string, cfg: Partial<AnonymizeConfig> = {}, decidedByPolicy = false) {
  const stage = anonymizeStage({ ...base, ...cfg }, { pseudonym: 'portico', policy: source });
  const flow = makeFlow({ url, headers: [['Cookie', 'id=1'], ['Accept', '*/*']] });
  if (decidedByPolicy) await policyStage(source).onRequest?.(flow, ctx);
  expect((await stage.onRequest?.(flow, ctx))?.kind).toBe('continue');
  flow.response = { status: 200, headers: [['Set-Cookie', 'id=2'], ['Content-Type', 'text/plain']] };
  await stage.onResponse?.(flow, ctx);
  const has = (headers: ReadonlyArray<readonly [string, string]>, name: string): boolean => headers.some(([n]) => n.toLowerCase() === name);
  return { cookie: has(flow.request.headers, 'cookie'), setCookie: has(flow.response.headers, 'set-cookie'), notes: flow.notes.anonymized ?? [] };
}

describe('anonymize stage with a compiled policy', () => {
  it.each([
    ['http://tracker.example/p', 'trackers'],
    ['https://sub.tracker.example/p', 'trackers'],
    ['http://www.ads.example/b', 'ads'],
  ])('strict: %s (category %s) loses Cookie and Set-Cookie', async (url, category) => {
    const r = await run(url);
    expect([r.cookie, r.setCookie]).toEqual([false, false]);
    expect(r.notes).toEqual(expect.arrayContaining([`removed Cookie (tracker category ${category})`, `removed Set-Cookie (tracker category ${category})`]));
  });

  it('strict: hosts outside the tracker categories keep their cookies (a listed non-tracker category too)', async () => {
    expect(await run('http://news.example/')).toMatchObject({ cookie: true, setCookie: true });
    expect(await run('http://social.example/')).toMatchObject({ cookie: true, setCookie: true });
  });

  it('trackerCategories decides which lists count', async () => {
    expect(await run('http://www.ads.example/b', { trackerCategories: ['trackers'] })).toMatchObject({ cookie: true, setCookie: true });
    expect(await run('http://social.example/', { trackerCategories: ['social'] })).toMatchObject({ cookie: false, setCookie: false });
  });

  it('standard and off leave tracker cookies alone', async () => {
    expect(await run('http://tracker.example/p', { profile: 'standard' })).toMatchObject({ cookie: true, setCookie: true });
    expect(await run('http://tracker.example/p', { profile: 'off' })).toMatchObject({ cookie: true, setCookie: true });
  });

  it('an `anonymize strict` decision applies strict to a standard default', async () => {
    expect(await run('http://tracker.example/strict/x', { profile: 'standard' }, true)).toMatchObject({ cookie: false, setCookie: false });
    expect(await run('http://tracker.example/other', { profile: 'standard' }, true)).toMatchObject({ cookie: true, setCookie: true });
  });
});
