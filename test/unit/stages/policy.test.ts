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

  it('at CONNECT: blocks by host only and reports no-mitm', () => {
    const c = connectPolicy(source, ctx);
    expect(c.checkConnect({ host: 'x.ads.example', port: 443 }, { ip: '127.0.0.1' }).block).toContain('block by rule ads');
    expect(c.checkConnect({ host: 'bank.example', port: 443 }, { ip: '127.0.0.1' })).toEqual({ noMitm: true });
    expect(c.checkConnect({ host: 'dl.example', port: 443 }, { ip: '127.0.0.1' })).toEqual({ noMitm: false });
  });
});
