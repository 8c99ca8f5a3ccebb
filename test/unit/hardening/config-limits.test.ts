import { describe, expect, it } from 'vitest';
import { reverseFlagsToConfig } from '../../../src/cli/reverse.js';
import { flagsToConfig } from '../../../src/cli/forward-options.js';
import { validateConfig } from '../../../src/config/load.js';
import { forwardConfigSchema } from '../../../src/config/schema.js';
import { frontDoorServerOptions } from '../../../src/forward/front-door.js';
import { reverseConfigSchema } from '../../../src/reverse/config.js';

describe('front-door limits in the configuration', () => {
  it('have safe defaults in both modes', () => {
    const f = validateConfig(forwardConfigSchema, {}, 'test');
    expect(f.server).toMatchObject({ maxConnections: 10_000, maxConnectionsPerClient: 512, maxHeaderCount: 100, maxUrlBytes: 8192 });
    expect(f.tunnel).toMatchObject({ maxTunnels: 5000, maxTunnelsPerClient: 256 });
    const r = validateConfig(reverseConfigSchema, { pools: { p: { backends: ['127.0.0.1:1'] } } }, 'test');
    expect(r.server).toMatchObject({ maxConnections: 10_000, maxConnectionsPerClient: 512, maxHeaderCount: 100, maxUrlBytes: 8192 });
  });

  it('come from the flags of both commands', () => {
    const f = validateConfig(forwardConfigSchema, flagsToConfig({ maxConnections: '50', maxConnectionsPerClient: '7' }), 'flags');
    expect(f.server).toMatchObject({ maxConnections: 50, maxConnectionsPerClient: 7 });
    const r = validateConfig(reverseConfigSchema, reverseFlagsToConfig({ backend: ['127.0.0.1:1'], maxConnectionsPerClient: '9' }), 'flags');
    expect(r.server.maxConnectionsPerClient).toBe(9);
  });

  it('refuse nonsense with the key named', () => {
    expect(() => validateConfig(forwardConfigSchema, { server: { maxUrlBytes: 0 } }, 'test')).toThrow(/server\.maxUrlBytes/);
    expect(() => validateConfig(forwardConfigSchema, flagsToConfig({ maxConnectionsPerClient: 'lots' }), 'flags')).toThrow(/maxConnectionsPerClient/);
  });

  it('node:http always gets the strict parser and timeouts checked at least every second', () => {
    const o = frontDoorServerOptions({
      headersTimeoutMs: 30_000, requestTimeoutMs: 300_000, keepAliveTimeoutMs: 5000, maxHeaderBytes: 16_384,
      maxHeaderCount: 100, maxUrlBytes: 8192, maxConnections: 10, maxConnectionsPerClient: 5,
    });
    expect(o.insecureHTTPParser).toBe(false);
    expect(o.connectionsCheckingInterval).toBe(1000);
    expect(frontDoorServerOptions({ ...o, headersTimeoutMs: 400, requestTimeoutMs: 1200, keepAliveTimeoutMs: 1, maxHeaderBytes: 1,
      maxHeaderCount: 1, maxUrlBytes: 1, maxConnections: 1, maxConnectionsPerClient: 1 }).connectionsCheckingInterval).toBe(100);
  });
});
