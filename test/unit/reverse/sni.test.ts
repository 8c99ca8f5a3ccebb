import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/load.js';
import { reverseConfigSchema } from '../../../src/reverse/config.js';
import { SniTable } from '../../../src/reverse/sni.js';

describe('SNI table', () => {
  const t = new SniTable<string>();
  t.add(['api.example.com', '*.example.com'], 'wild');
  t.add(['API.example.com', 'www.example.com.'], 'second');
  t.add(['other.test'], 'other');

  it.each([
    ['api.example.com', 'wild'], // the first certificate configured for a name wins
    ['www.example.com', 'second'], // exact beats wildcard; trailing dot normalised
    ['WWW.Example.COM.', 'second'],
    ['shop.example.com', 'wild'],
    ['a.b.example.com', undefined], // a wildcard covers one label only
    ['example.com', undefined],
    ['other.test', 'other'],
    ['nothing', undefined],
  ])('%s → %s', (name, want) => {
    expect(t.lookup(name)).toBe(want);
  });
});

describe('listen: entries', () => {
  const parse = (listen: unknown) => validateConfig(reverseConfigSchema, { listen, pools: { p: { backends: ['127.0.0.1:1'] } } }, 'test').listen;

  it('accepts an address, an {address, tls} entry or a list, and normalises to a list', () => {
    expect(parse('127.0.0.1:8081')).toEqual([{ host: '127.0.0.1', port: 8081 }]);
    expect(parse(['8080', { address: '0.0.0.0:8443', tls: { cert: 'c.pem', key: 'k.pem' } }])).toEqual([
      { host: '127.0.0.1', port: 8080 },
      { host: '0.0.0.0', port: 8443, tls: { cert: 'c.pem', key: 'k.pem', certificates: [], minVersion: 'TLSv1.2', handshakeTimeoutMs: 10_000 } },
    ]);
  });

  it('refuses tls without any certificate, or a cert without its key', () => {
    expect(() => parse({ address: '8443', tls: {} })).toThrow(/at least one of certificates/);
    expect(() => parse({ address: '8443', tls: { cert: 'c.pem' } })).toThrow(/cert and key together/);
  });
});

describe('routes: ids', () => {
  it('refuses two routes with one id (flows, per-route stages and Redis keys are named by it)', () => {
    const cfg = { pools: { p: { backends: ['127.0.0.1:1'] } }, routes: [{ id: 'a', pool: 'p' }, { id: 'a', pool: 'p', path: '/x' }] };
    expect(() => validateConfig(reverseConfigSchema, cfg, 'test')).toThrow(/routes\.1\.id: route id "a" is used twice/);
    expect(() => validateConfig(reverseConfigSchema, { ...cfg, routes: [{ pool: 'p' }, { id: 'route-1', pool: 'p' }] }, 'test')).toThrow(/used twice/);
  });
});
