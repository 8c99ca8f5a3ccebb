import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/load.js';
import { chainConfigSchema } from '../../../src/chain/config.js';
import { defaultChainConfig } from '../../../src/chain/defaults.js';
import { ChainResolveError, resolveForward, resolveL4, resolveReverse } from '../../../src/chain/resolve.js';

const at = { reverse: '127.0.0.1:8081', demo: new Map([['b1', '127.0.0.1:9001'], ['b2', '127.0.0.1:9002']]) };

describe('chain placeholders', () => {
  it('a forward route to "reverse" goes to the reverse proxy; other routes are kept', () => {
    const out = resolveForward({ routes: [{ host: 'a.test', to: 'reverse' }, { host: 'b.test', to: '10.0.0.1:80' }] }, at);
    expect(out.routes).toEqual([{ host: 'a.test', to: '127.0.0.1:8081' }, { host: 'b.test', to: '10.0.0.1:80' }]);
    expect(() => resolveForward({ routes: [{ host: 'a', to: 'reverse' }] }, { reverse: undefined, demo: new Map() }))
      .toThrow(/forward\.routes\.0\.to: "reverse" but the chain has no reverse proxy/);
  });

  it('pool backends demo:ID (string or address) become the demo backend addresses', () => {
    const out = resolveReverse({ pools: { app: { backends: ['demo:b1', { address: 'demo:b2', weight: 3 }, '10.0.0.9:80'] } } }, at);
    expect(out.pools).toEqual({ app: { backends: ['127.0.0.1:9001', { address: '127.0.0.1:9002', weight: 3 }, '10.0.0.9:80'] } });
    expect(() => resolveReverse({ pools: { app: { backends: ['demo:b7'] } } }, at))
      .toThrow(ChainResolveError);
  });

  it('L4 pool backends may be forward, reverse or demo:ID', () => {
    const out = resolveL4({ pools: { p: { backends: ['forward', 'reverse', 'demo:b1', '10.0.0.1:22'] } } }, { ...at, forward: '127.0.0.1:8080' });
    expect(out.pools).toEqual({ p: { backends: ['127.0.0.1:8080', '127.0.0.1:8081', '127.0.0.1:9001', '10.0.0.1:22'] } });
    expect(() => resolveL4({ pools: { p: { backends: ['forward'] } } }, at)).toThrow(/l4\.pools\.p\.backends\.0: "forward" but the chain has no forward proxy/);
  });

  it('the built-in chain is a valid chain configuration with 3 demo backends', () => {
    const cfg = validateConfig(chainConfigSchema, defaultChainConfig(), 'built-in');
    expect(cfg.demoBackends.map((b) => b.id)).toEqual(['b1', 'b2', 'b3']);
    expect(() => validateConfig(chainConfigSchema, { demoBackends: [{ id: 'x' }, { id: 'x' }] }, 't')).toThrow(/duplicate id "x"/);
  });
});
