import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createGuardedLookup, TargetForbiddenError, type Resolver } from '../../../src/upstream/lookup.js';
import { createTargetGuard } from '../../../src/upstream/target-guard.js';

const fixed = (addresses: LookupAddress[]): Resolver => async () => addresses;
const LOCAL: LookupAddress[] = [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }];

function call(lookup: LookupFunction, host: string, options: { all?: boolean; family?: number }): Promise<{ address: string | LookupAddress[]; family?: number }> {
  return new Promise((resolve, reject) => {
    lookup(host, options, (err, address, family) => (err ? reject(err) : resolve({ address, family })));
  });
}

describe('guarded lookup', () => {
  it('refuses a name that resolves only to loopback', async () => {
    const lookup = createGuardedLookup({ guard: createTargetGuard({ allow: [], selfAddresses: [] }), resolve: fixed(LOCAL) });
    const err = await call(lookup, 'sneaky.example', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetForbiddenError);
    expect((err as TargetForbiddenError).message).toBe('sneaky.example: ::1 is a loopback address');
  });

  it('refuses the real localhost through the system resolver', async () => {
    const lookup = createGuardedLookup({ guard: createTargetGuard({ allow: [], selfAddresses: [] }) });
    await expect(call(lookup, 'localhost', { all: true })).rejects.toBeInstanceOf(TargetForbiddenError);
  });

  it('returns only the allowed addresses, first one or all', async () => {
    const guard = createTargetGuard({ allow: ['127.0.0.0/8'], selfAddresses: [] });
    const lookup = createGuardedLookup({ guard, resolve: fixed(LOCAL) });
    expect(await call(lookup, 'dual.example', {})).toEqual({ address: '127.0.0.1', family: 4 });
    expect(await call(lookup, 'dual.example', { all: true })).toEqual({ address: [{ address: '127.0.0.1', family: 4 }] });
  });

  it('honours the family option and reports a missing family as ENOTFOUND', async () => {
    const guard = createTargetGuard({ allow: ['::1/128'], selfAddresses: [] });
    const lookup = createGuardedLookup({ guard, resolve: fixed(LOCAL) });
    expect(await call(lookup, 'dual.example', { family: 6 })).toEqual({ address: '::1', family: 6 });
    const v4only = createGuardedLookup({ guard, resolve: fixed([{ address: '10.0.0.1', family: 4 }]) });
    await expect(call(v4only, 'v4.example', { family: 6 })).rejects.toMatchObject({ code: 'ENOTFOUND', hostname: 'v4.example' });
  });

  it('passes resolver errors through with their code', async () => {
    const failing: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nonexistent.invalid'), { code: 'ENOTFOUND' });
    };
    const lookup = createGuardedLookup({ guard: createTargetGuard({ allow: [], selfAddresses: [] }), resolve: failing });
    await expect(call(lookup, 'nonexistent.invalid', {})).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('checks IP literals without resolving, and the self address when the port is known', async () => {
    const guard = createTargetGuard({ allow: ['127.0.0.0/8'], selfAddresses: [{ host: '127.0.0.1', port: 3128 }] });
    const never: Resolver = async () => { throw new Error('must not resolve'); };
    expect(await call(createGuardedLookup({ guard, resolve: never, port: 80 }), '127.0.0.1', {})).toEqual({ address: '127.0.0.1', family: 4 });
    await expect(call(createGuardedLookup({ guard, resolve: never, port: 3128 }), '127.0.0.1', {})).rejects.toBeInstanceOf(TargetForbiddenError);
  });

  it('reports DNS time on the injected clock', async () => {
    let t = 100;
    const timings: Array<[number, string]> = [];
    const lookup = createGuardedLookup({
      guard: createTargetGuard({ allow: [], selfAddresses: [] }),
      resolve: async () => { t += 7; return [{ address: '10.1.1.1', family: 4 }]; },
      clock: { now: () => 0, monotonic: () => t },
      onTiming: (ms, host) => timings.push([ms, host]),
    });
    await call(lookup, 'timed.example', {});
    expect(timings).toEqual([[7, 'timed.example']]);
  });
});
