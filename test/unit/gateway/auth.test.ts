import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Stage, Verdict } from '../../../src/core/stage.js';
import { basicAuthStage, parseBasic } from '../../../src/gateway/basic-auth.js';
import { jwtAuthStage, type JwtAuthOptions } from '../../../src/gateway/jwt-auth.js';
import { hashPasswordScrypt } from '../../../src/stages/htpasswd.js';
import { makeFlow } from '../../helpers/make-flow.js';

const NOW_S = 1_800_000_000;
const clock = { now: () => NOW_S * 1000, monotonic: () => 0 };
const ctx = { clock, log: pino({ level: 'silent' }) };
const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
const hsKey = new TextEncoder().encode(SECRET);
let dir: string;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portico-gw-'));
  await writeFile(join(dir, 'users'), `alice:${await hashPasswordScrypt('wonderland')}\n`);
  await writeFile(join(dir, 'rsa.pub'), rsa.publicKey.export({ type: 'spki', format: 'pem' }));
});

async function run(stage: Stage, headers: Array<[string, string]>): Promise<{ v: Verdict; flow: ReturnType<typeof makeFlow> }> {
  const flow = makeFlow({ url: 'http://api.test/x', headers });
  const v = await stage.onRequest!(flow, ctx);
  return { v, flow };
}
const challenge = (v: Verdict): string | undefined =>
  v.kind === 'reply' ? v.head.headers.find(([k]) => k === 'WWW-Authenticate')?.[1] : undefined;
const basic = (u: string, p: string): [string, string] => ['Authorization', `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`];

describe('basic auth stage', () => {
  it('parses Basic credentials (password may contain colons) and rejects anything else', () => {
    expect(parseBasic(basic('a', 'b:c')[1])).toEqual({ user: 'a', password: 'b:c' });
    expect(parseBasic('Bearer x')).toBeUndefined();
    expect(parseBasic(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toBeUndefined();
  });

  it('401 with a Basic challenge until a listed user signs in; the credentials are not forwarded', async () => {
    const stage = await basicAuthStage({ htpasswd: join(dir, 'users'), realm: 'team "a"', forwardCredentials: false }, { clock });
    const none = await run(stage, []);
    expect(none.v.kind === 'reply' && none.v.head.status).toBe(401);
    expect(challenge(none.v)).toBe('Basic realm="team \\"a\\"", charset="UTF-8"');
    expect((await run(stage, [basic('alice', 'nope')])).v.kind).toBe('reply');
    expect((await run(stage, [basic('mallory', 'wonderland')])).v.kind).toBe('reply');
    const ok = await run(stage, [basic('alice', 'wonderland'), ['Accept', '*/*']]);
    expect(ok.v.kind).toBe('continue');
    expect(ok.flow.client.user).toBe('alice');
    expect(ok.flow.request.headers).toEqual([['Accept', '*/*']]);
  });
});

describe('jwt auth stage', () => {
  const base: JwtAuthOptions = { secret: SECRET, clockSkewSec: 30, requireExp: true, realm: 'api', forwardCredentials: true, issuer: ['https://idp.test'], audience: ['shop'] };
  const hs = (claims: Record<string, unknown>, exp: number | null = NOW_S + 60): Promise<string> => {
    const j = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://idp.test').setAudience('shop').setSubject('u1');
    return (exp === null ? j : j.setExpirationTime(exp)).sign(hsKey);
  };
  const bearer = (t: string): [string, string] => ['Authorization', `Bearer ${t}`];

  it('accepts a valid HS256 token and names its subject as the user', async () => {
    const stage = await jwtAuthStage(base, { clock });
    const r = await run(stage, [bearer(await hs({}))]);
    expect(r.v.kind).toBe('continue');
    expect(r.flow.client.user).toBe('u1');
    expect(r.flow.request.headers[0]?.[0]).toBe('Authorization'); // forwarded
  });

  it('refuses missing, malformed, expired (beyond the skew), exp-less, wrong-aud and wrong-key tokens with RFC 6750 challenges', async () => {
    const stage = await jwtAuthStage(base, { clock });
    expect(challenge((await run(stage, [])).v)).toBe('Bearer realm="api"');
    expect(challenge((await run(stage, [['Authorization', 'Bearer not a token']])).v)).toContain('error="invalid_request"');
    expect((await run(stage, [bearer(await hs({}, NOW_S - 20))])).v.kind).toBe('continue'); // within 30 s of skew
    expect(challenge((await run(stage, [bearer(await hs({}, NOW_S - 40))])).v)).toBe(
      'Bearer realm="api", error="invalid_token", error_description="the token has expired"');
    expect(challenge((await run(stage, [bearer(await hs({}, null))])).v)).toContain('the token has no exp claim');
    const wrongAud = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://idp.test').setAudience('other')
      .setExpirationTime(NOW_S + 60).sign(hsKey);
    expect(challenge((await run(stage, [bearer(wrongAud)])).v)).toContain('claim aud check failed');
    const otherKey = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://idp.test').setAudience('shop')
      .setExpirationTime(NOW_S + 60).sign(new TextEncoder().encode('x'.repeat(40)));
    expect(challenge((await run(stage, [bearer(otherKey)])).v)).toContain('signature is invalid');
  });

  it('RS256 with a public key file; an HS256 token is refused when only RS256 is configured (no algorithm confusion)', async () => {
    const stage = await jwtAuthStage({ ...base, secret: undefined, publicKeyFile: join(dir, 'rsa.pub') }, { clock });
    const rs = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setIssuer('https://idp.test').setAudience('shop')
      .setSubject('svc').setExpirationTime(NOW_S + 60).sign(rsa.privateKey);
    const ok = await run(stage, [bearer(rs)]);
    expect(ok.v.kind).toBe('continue');
    expect(ok.flow.client.user).toBe('svc');
    expect(challenge((await run(stage, [bearer(await hs({}))])).v)).toContain('algorithm is not accepted');
  });

  it('refuses a short HS256 secret at load time', async () => {
    await expect(jwtAuthStage({ ...base, secret: 'short' }, { clock })).rejects.toThrow(/at least 32 bytes/);
  });
});
