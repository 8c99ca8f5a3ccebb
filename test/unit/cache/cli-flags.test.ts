import { describe, expect, it } from 'vitest';
import { forwardCommand, loadForwardConfig } from '../../../src/cli/forward.js';
import { normalizeFileConfig, type ForwardFlags } from '../../../src/cli/forward-options.js';

function cacheFrom(argv: string[]): { store: string; maxObjectBytes: number; maxMemoryBytes: number } {
  const cmd = forwardCommand().action(() => undefined);
  cmd.parse(argv, { from: 'user' });
  const { store, maxObjectBytes, maxMemoryBytes } = loadForwardConfig({ ...cmd.opts<ForwardFlags>(), config: '/dev/null' }).cache;
  return { store, maxObjectBytes, maxMemoryBytes };
}

describe('portico forward cache flags', () => {
  it.each([
    [[], { store: 'memory', maxObjectBytes: 8 * 1024 * 1024, maxMemoryBytes: 256 * 1024 * 1024 }],
    [['--no-cache'], { store: 'off', maxObjectBytes: 8 * 1024 * 1024, maxMemoryBytes: 256 * 1024 * 1024 }],
    [['--cache', 'redis://127.0.0.1:6379/1', '--cache-max-object', '1000'], { store: 'redis://127.0.0.1:6379/1', maxObjectBytes: 1000, maxMemoryBytes: 256 * 1024 * 1024 }],
    [['--cache', 'redis+sentinel://127.0.0.1:26379,127.0.0.1:26380/mymaster/2'], { store: 'redis+sentinel://127.0.0.1:26379,127.0.0.1:26380/mymaster/2', maxObjectBytes: 8 * 1024 * 1024, maxMemoryBytes: 256 * 1024 * 1024 }],
    [['--cache-max-memory', '5000'], { store: 'memory', maxObjectBytes: 8 * 1024 * 1024, maxMemoryBytes: 5000 }],
  ])('%j', (argv, expected) => expect(cacheFrom(argv)).toEqual(expected));

  it('rejects an unknown store with the config path', () => {
    expect(() => cacheFrom(['--cache', 'memcached://x'])).toThrow(/cache\.store/);
    expect(() => cacheFrom(['--cache', 'redis+sentinel://127.0.0.1:26379'])).toThrow(/redis\+sentinel:\/\/HOST:PORT/);
  });

  it('a YAML `cache: false` is store off', () => {
    expect(normalizeFileConfig({ cache: false })).toEqual({ cache: { store: 'off' } });
  });
});
