import { describe, expect, it } from 'vitest';
import { flagsToConfig } from '../../../src/cli/forward-options.js';
import { ConfigError, validateConfig } from '../../../src/config/load.js';
import { forwardConfigSchema } from '../../../src/config/schema.js';

const parse = (input: Record<string, unknown>) => validateConfig(forwardConfigSchema, input, 'test');

describe('log and admin configuration', () => {
  it('defaults: JSON access log to stdout, nothing captured, admin off', () => {
    const c = parse({});
    expect(c.log).toMatchObject({ level: 'info', format: 'json', accessLog: ['-'], headers: false, bodies: 0, ringFlows: 10_000 });
    expect(c.log.redactHeaders).toEqual(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);
    expect(c.admin.listen).toBeUndefined();
  });

  it('maps the flags onto the log and admin sections', () => {
    const c = parse(flagsToConfig({
      logFormat: 'squid', accessLog: '-,logs/access.log', logHeaders: true, logBodies: '512', admin: '9090', adminToken: 't',
    }));
    expect(c.log).toMatchObject({ format: 'squid', accessLog: ['-', 'logs/access.log'], headers: true, bodies: 512 });
    expect(c.admin).toMatchObject({ listen: { host: '127.0.0.1', port: 9090 }, token: 't' });
  });

  it.each([
    [{ log: { format: 'apache' } }, /log\.format/],
    [{ log: { rotate: { size: 'big' } } }, /log\.rotate\.size/],
    [{ admin: { listen: 'nope' } }, /admin\.listen/],
    [{ admin: { port: 1 } }, /admin/],
  ])('refuses %j', (input, message) => {
    expect(() => parse(input)).toThrow(ConfigError);
    expect(() => parse(input)).toThrow(message);
  });
});
