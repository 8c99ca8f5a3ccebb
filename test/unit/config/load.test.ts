import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, mergeConfig, readConfigFile, validateConfig } from '../../../src/config/load.js';
import { forwardConfigSchema, parseHostPort } from '../../../src/config/schema.js';
import { flagsToConfig, normalizeFileConfig } from '../../../src/cli/forward-options.js';

describe('forward config', () => {
  it('defaults are secure: loopback listen, loopback clients, port 443 only, no MITM', () => {
    const c = validateConfig(forwardConfigSchema, {}, 'test');
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.access.allowClients).toEqual(['127.0.0.0/8', '::1/128']);
    expect(c.connectPorts).toEqual([443]);
    expect(c.mitm.enabled).toBe(false);
    expect(c.targets.allow).toEqual([]);
    expect(Object.isFrozen(c.upstream)).toBe(true);
  });

  it('flags override the file, and `mitm: true` in a file merges with --mitm-bypass', () => {
    const file = normalizeFileConfig({ mitm: true, listen: '0.0.0.0:3128', connectPorts: [443, 8443] });
    const flags = flagsToConfig({ listen: '127.0.0.1:9000', mitmBypass: '*.bank.test, pinned.test', allowTarget: '127.0.0.0/8' });
    const c = validateConfig(forwardConfigSchema, mergeConfig(file, flags), 'test');
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(c.mitm).toMatchObject({ enabled: true, bypass: ['*.bank.test', 'pinned.test'] });
    expect(c.connectPorts).toEqual([443, 8443]);
    expect(c.targets.allow).toEqual(['127.0.0.0/8']);
  });

  it('names the config path of a bad value and unknown keys', () => {
    expect(() => validateConfig(forwardConfigSchema, { upstream: { connectTimeoutMs: 'soon' } }, 'x.yaml'))
      .toThrow(/upstream\.connectTimeoutMs/);
    expect(() => validateConfig(forwardConfigSchema, { lsiten: '1' }, 'x.yaml')).toThrow(/lsiten/);
    expect(() => validateConfig(forwardConfigSchema, { listen: 'nope' }, 'x.yaml')).toThrow(ConfigError);
  });

  it('reports YAML syntax errors with file:line:col', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-cfg-'));
    const f = join(dir, 'p.yaml');
    await writeFile(f, 'listen: 127.0.0.1:1\nmitm: [oops\n');
    expect(() => readConfigFile(f)).toThrow(new RegExp(`${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+`));
    expect(() => readConfigFile(join(dir, 'missing.yaml'))).toThrow(/cannot read config file/);
  });

  it.each([
    ['8080', { host: '127.0.0.1', port: 8080 }],
    ['0.0.0.0:3128', { host: '0.0.0.0', port: 3128 }],
    ['[::1]:8080', { host: '::1', port: 8080 }],
    ['host:99999', undefined],
  ])('parseHostPort(%j)', (input, expected) => expect(parseHostPort(input, '127.0.0.1')).toEqual(expected));
});
