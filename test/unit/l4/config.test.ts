import { describe, expect, it } from 'vitest';
import { l4FlagsToConfig, loadL4Config } from '../../../src/cli/l4.js';
import { ConfigError, validateConfig } from '../../../src/config/load.js';
import { DEFAULT_PRECONNECT, l4ConfigSchema, preconnectOf } from '../../../src/l4/config.js';

const errorOf = (input: Record<string, unknown>): string => {
  try {
    validateConfig(l4ConfigSchema, input, 'l4.yaml');
    return 'valid';
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
};

describe('l4 config', () => {
  it('applies safe defaults: loopback listener, round robin, no PROXY header, 3 s connect, 3 attempts, 5 min idle', () => {
    const c = loadL4Config({ backend: ['127.0.0.1:7001', '127.0.0.1:7002'] });
    expect(c.listeners[0]).toMatchObject({ listen: { host: '127.0.0.1', port: 7000 }, protocol: 'tcp', pool: 'default', maxConnections: 10_000 });
    expect(c.pools.default).toMatchObject({
      balance: { algorithm: 'round-robin' }, proxyProtocol: 'off', connectTimeoutMs: 3000, maxAttempts: 3,
      noDelay: true, keepAlive: { enabled: false }, maxConnectionsPerBackend: 0, coalesceWindowMs: 0,
    });
    expect(c.pools.default?.stick).toBeUndefined();
    expect(c.pools.default?.health).toBeUndefined();
  });

  it('maps every flag', () => {
    const c = loadL4Config({
      listen: '127.0.0.1:7100', backend: ['127.0.0.1:1'], balance: 'hash-ip', udp: true, healthInterval: '500',
      stickTtl: '60000', maxConns: '5', maxConnsPerBackend: '2', connectTimeout: '100', idleTimeout: '1000', coalesce: '2',
      admin: '127.0.0.1:0', logLevel: 'warn', shutdownGrace: '50',
    });
    expect(c.listeners[0]).toMatchObject({ protocol: 'udp', maxConnections: 5, idleTimeoutMs: 1000, listen: { port: 7100 } });
    expect(c.pools.default).toMatchObject({
      balance: { algorithm: 'ring-hash', hashOn: { kind: 'ip' } }, health: { intervalMs: 500 }, stick: { ttlMs: 60000 },
      maxConnectionsPerBackend: 2, connectTimeoutMs: 100, coalesceWindowMs: 2,
    });
    expect(c.shutdown.graceMs).toBe(50);
    expect(c.admin.listen).toEqual({ host: '127.0.0.1', port: 0 });
  });

  it('refuses what L4 cannot do, naming the config path', () => {
    expect(() => loadL4Config({ backend: ['127.0.0.1:1'], balance: 'hash-header:X' })).toThrow(/pools\.default\.balance: .*hash on the client IP/);
    expect(() => loadL4Config({ backend: ['localhost'] })).toThrow(/pools\.default\.backends\.0: backend "localhost": expected HOST:PORT/);
    expect(() => loadL4Config({ backend: ['127.0.0.1:1'], proxyProtocol: 'v3' })).toThrow(/pools\.default\.proxyProtocol/);
    expect(() => loadL4Config({ backend: ['127.0.0.1:1'], udp: true, proxyProtocol: 'v1' })).toThrow(/listeners\.0\.pool: PROXY protocol v1 has no UDP form: .*proxyProtocol: v2/);
    expect(loadL4Config({ backend: ['127.0.0.1:1'], udp: true, proxyProtocol: 'v2' }).pools.default?.proxyProtocol).toBe('v2');
    expect(() => l4FlagsToConfig({ listen: '127.0.0.1:1' })).toThrow(ConfigError);
  });

  it('pre-connects only when a pool asks (off by default), never for one that sends PROXY headers, and refuses asking for both', () => {
    const pool = (p: Record<string, unknown>): Parameters<typeof preconnectOf>[0] =>
      validateConfig(l4ConfigSchema, { listeners: [{ listen: '127.0.0.1:1' }], pools: { a: { backends: ['127.0.0.1:1'], ...p } } }, 'l4.yaml').pools.a!;
    expect(DEFAULT_PRECONNECT).toBe(0);
    expect(preconnectOf(pool({}))).toEqual({ perBackend: 0, maxIdleMs: 5_000 });
    expect(preconnectOf(pool({ preconnect: { perBackend: 0 } })).perBackend).toBe(0);
    expect(preconnectOf(pool({ preconnect: { perBackend: 8, maxIdleMs: 1000 } }))).toEqual({ perBackend: 8, maxIdleMs: 1000 });
    expect(preconnectOf(pool({ proxyProtocol: 'v1' })).perBackend).toBe(0);
    expect(preconnectOf(pool({ proxyProtocol: 'v2', preconnect: { perBackend: 0 } })).perBackend).toBe(0);
    const both = { listeners: [{ listen: '127.0.0.1:1' }], pools: { a: { backends: ['127.0.0.1:1'], proxyProtocol: 'v2', preconnect: { perBackend: 1 } } } };
    expect(errorOf(both)).toMatch(/pools\.a\.preconnect\.perBackend: a PROXY header names the client/);
    expect(errorOf({ listeners: [{ listen: '127.0.0.1:1' }], pools: { a: { backends: ['127.0.0.1:1'], preconnect: { perBackend: 65 } } } })).toMatch(/preconnect\.perBackend/);
  });

  it('checks listeners against pools', () => {
    const pools = { a: { backends: ['127.0.0.1:1'] }, b: { backends: ['127.0.0.1:2'] } };
    expect(errorOf({ listeners: [{ listen: '127.0.0.1:1', pool: 'nope' }], pools })).toMatch(/listeners\.0\.pool: unknown pool "nope"/);
    expect(errorOf({ listeners: [{ listen: '127.0.0.1:1' }], pools })).toMatch(/listeners\.0\.pool: several pools/);
    expect(errorOf({ listeners: [{ listen: '127.0.0.1:1', sni: [{ match: '*.x', pool: 'c' }] }], pools })).toMatch(/listeners\.0\.sni\.0\.pool: unknown pool "c"/);
    expect(errorOf({ listeners: [{ listen: '127.0.0.1:1', protocol: 'udp', pool: 'a', sni: [{ match: 'x', pool: 'a' }] }], pools })).toMatch(/SNI routing needs TCP/);
    expect(errorOf({ listeners: [{ listen: '127.0.0.1:5', pool: 'a' }, { listen: '127.0.0.1:5', pool: 'b' }], pools })).toMatch(/listed twice/);
    expect(errorOf({ listeners: [{ listen: '127.0.0.1:1', pool: 'a', acceptProxyProtocol: { trusted: ['10.0.0.0/99'] } }], pools })).toMatch(/acceptProxyProtocol\.trusted\.0: expected an IP address or CIDR/);
    expect(errorOf({ listeners: [{ listen: '127.0.0.1:1', pool: 'a', sni: [{ match: ['*.a.example'], pool: 'b' }] }], pools })).toBe('valid');
    expect(errorOf({ listeners: [{ listen: '127.0.0.1:1', pool: 'a', typo: 1 }], pools })).toMatch(/listeners\.0: Unrecognized key/);
  });
});
