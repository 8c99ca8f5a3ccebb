import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash as bcryptHash } from 'bcryptjs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getHeader } from '../../../src/core/headers.js';
import { accessStage, createAccessControl, hashPasswordScrypt, normaliseClientIp } from '../../../src/stages/access.js';
import { loadHtpasswd, parseHash } from '../../../src/stages/htpasswd.js';
import { makeFlow, testClock } from '../../helpers/make-flow.js';

const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const ctx = { clock: testClock, log: pino({ level: 'silent' }) };
let dir: string;
let authFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portico-access-'));
  authFile = join(dir, 'users');
  const lines = ['# proxy users', '', `alice:${await hashPasswordScrypt('wonderland')}`, `bob:${await bcryptHash('builder', 4)}`, ''];
  await writeFile(authFile, lines.join('\n'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('client allow list', () => {
  it.each<[string, string[], string, boolean]>([
    ['loopback v4', ['127.0.0.0/8', '::1/128'], '127.0.0.1', true],
    ['IPv4-mapped matches the IPv4 CIDR', ['127.0.0.0/8'], '::ffff:127.0.0.1', true],
    ['::1', ['127.0.0.0/8', '::1/128'], '::1', true],
    ['outside the list', ['10.0.0.0/8'], '127.0.0.1', false],
    ['mapped outside the list', ['10.0.0.0/8'], '::ffff:192.168.1.1', false],
    ['single IP entry', ['192.168.1.7'], '192.168.1.7', true],
    ['zone id dropped', ['fe80::/10'], 'fe80::1%eth0', true],
    ['empty list allows nobody', [], '127.0.0.1', false],
    ['garbage address', ['0.0.0.0/0'], 'nonsense', false],
  ])('%s', async (_name, allowClients, ip, expected) => {
    const control = await createAccessControl({ allowClients, realm: 'R' }, { clock: testClock });
    expect(control.clientAllowed(ip)).toBe(expected);
    expect((await control.check(ip, undefined)).ok).toBe(expected);
  });

  it('refuses invalid CIDRs at startup', async () => {
    await expect(createAccessControl({ allowClients: ['10.0.0.0/40'], realm: 'R' }, { clock: testClock })).rejects.toThrow(/invalid CIDR "10.0.0.0\/40"/);
    expect(normaliseClientIp('::FFFF:10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('proxy authentication', () => {
  const make = () => createAccessControl({ allowClients: ['127.0.0.0/8'], authFile, realm: 'Office "HQ"' }, { clock: testClock });

  it.each<[string, string | undefined, { ok: boolean; user?: string; code?: string }]>([
    ['no credentials', undefined, { ok: false, code: 'PROXY_AUTH_REQUIRED' }],
    ['scrypt user', basic('alice', 'wonderland'), { ok: true, user: 'alice' }],
    ['bcrypt user', basic('bob', 'builder'), { ok: true, user: 'bob' }],
    ['scrypt wrong password', basic('alice', 'nope'), { ok: false, code: 'PROXY_AUTH_REQUIRED' }],
    ['bcrypt wrong password', basic('bob', 'nope'), { ok: false, code: 'PROXY_AUTH_REQUIRED' }],
    ['unknown user', basic('mallory', 'wonderland'), { ok: false, code: 'PROXY_AUTH_REQUIRED' }],
    ['not Basic', 'Bearer abc', { ok: false, code: 'PROXY_AUTH_REQUIRED' }],
    ['no colon', `Basic ${Buffer.from('alice').toString('base64')}`, { ok: false, code: 'PROXY_AUTH_REQUIRED' }],
    ['scheme case-insensitive', basic('alice', 'wonderland').replace('Basic', 'bAsIc'), { ok: true, user: 'alice' }],
  ])('%s', async (_name, header, expected) => {
    const control = await make();
    expect(await control.check('127.0.0.1', header)).toEqual(expected);
  });

  it('checks the address before credentials', async () => {
    const control = await make();
    expect(await control.check('10.0.0.1', basic('alice', 'wonderland'))).toEqual({ ok: false, code: 'FORBIDDEN_CLIENT' });
  });

  it('caches a verification for five minutes on the injected clock', async () => {
    let t = 0;
    const clock = { now: () => 0, monotonic: () => t };
    const control = await createAccessControl({ allowClients: ['127.0.0.0/8'], authFile, realm: 'R' }, { clock });
    const header = basic('bob', 'builder');
    await control.check('127.0.0.1', header);
    const started = performance.now();
    for (let i = 0; i < 50; i++) expect(await control.check('127.0.0.1', header)).toEqual({ ok: true, user: 'bob' });
    expect(performance.now() - started).toBeLessThan(50); // bcrypt is not paid again
    t = 5 * 60_000 + 1;
    expect(await control.check('127.0.0.1', header)).toEqual({ ok: true, user: 'bob' }); // re-verified after expiry
  });

  it('the stage sets the user, or answers 407 with the realm / 403', async () => {
    const stage = accessStage(await make());
    const ok = makeFlow({ url: 'http://a.example/', headers: [['Proxy-Authorization', basic('alice', 'wonderland')]] });
    expect(await stage.onRequest?.(ok, ctx)).toEqual({ kind: 'continue' });
    expect(ok.client.user).toBe('alice');

    const anon = makeFlow({ url: 'http://a.example/' });
    const challenge = await stage.onRequest?.(anon, ctx);
    expect(challenge?.kind).toBe('reply');
    if (challenge?.kind === 'reply') {
      expect(challenge.head.status).toBe(407);
      expect(challenge.head.headers.filter(([k]) => k.toLowerCase() === 'proxy-authenticate')).toEqual([
        ['Proxy-Authenticate', 'Basic realm="Office \\"HQ\\"", charset="UTF-8"'],
      ]);
    }
    const stranger = makeFlow({ url: 'http://a.example/', clientIp: '10.9.9.9' });
    const refused = await stage.onRequest?.(stranger, ctx);
    if (refused?.kind !== 'reply') throw new Error('expected a reply');
    expect(refused.head.status).toBe(403);
    expect(getHeader(refused.head.headers, 'proxy-authenticate')).toBeUndefined();
    expect(stranger.error?.code).toBe('FORBIDDEN_CLIENT');
  });
});

describe('htpasswd file', () => {
  it.each<[string, string, RegExp]>([
    ['no colon', '# c\nalice\n', /users-bad:2: expected "user:hash"/],
    ['unknown hash', 'alice:{SHA}abc\n', /users-bad:1: unsupported hash/],
    ['duplicate user', `a:$2b$04$${'a'.repeat(53)}\n\na:$2b$04$${'a'.repeat(53)}\n`, /users-bad:3: user "a" is listed twice/],
    ['scrypt N not a power of two', 'a:$scrypt$N=1000,r=8,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAA==\n', /users-bad:1: scrypt N must be a power of two/],
  ])('%s → error naming file:line', async (_name, text, error) => {
    const file = join(dir, 'users-bad');
    await writeFile(file, text);
    await expect(loadHtpasswd(file)).rejects.toThrow(error);
    await expect(createAccessControl({ allowClients: [], authFile: file, realm: 'R' }, { clock: testClock })).rejects.toThrow(error);
  });

  it('parses bcrypt variants and scrypt', async () => {
    expect(parseHash(`$2y$10$${'b'.repeat(53)}`)).toMatchObject({ kind: 'bcrypt' });
    expect(parseHash(await hashPasswordScrypt('x'))).toMatchObject({ kind: 'scrypt', params: { N: 16384, r: 8, p: 1 } });
    expect(typeof parseHash('$1$md5$crypt')).toBe('string');
  });
});
