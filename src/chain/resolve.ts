import type { PlainObject } from '../config/load.js';

/** Where the chain's own components ended up listening (known only once they listen: ports may be 0). */
export interface ChainAddresses {
  /** host:port of the chain's reverse proxy; undefined when the chain has none. */
  readonly reverse: string | undefined;
  /** host:port of the chain's forward proxy, once it listens (L4 pools may point at it). */
  readonly forward?: string | undefined;
  /** demo backend id → host:port. */
  readonly demo: ReadonlyMap<string, string>;
}

/** Placeholders a chain file may use, with the reason each one exists. */
export const REVERSE_PLACEHOLDER = 'reverse';
export const DEMO_PREFIX = 'demo:';

export class ChainResolveError extends Error {}

const isObject = (v: unknown): v is PlainObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Pure: the forward configuration with every route `to: reverse` replaced by the reverse proxy's address. */
export function resolveForward(forward: PlainObject, at: ChainAddresses): PlainObject {
  const routes = forward.routes;
  if (!Array.isArray(routes)) return forward;
  return {
    ...forward,
    routes: routes.map((r: unknown, i) => {
      if (!isObject(r) || r.to !== REVERSE_PLACEHOLDER) return r;
      if (at.reverse === undefined) throw new ChainResolveError(`forward.routes.${i}.to: "reverse" but the chain has no reverse proxy`);
      return { ...r, to: at.reverse };
    }),
  };
}

/** Pure: an L4 configuration whose pool backends may be `forward`, `reverse` or `demo:ID`. */
export function resolveL4(l4: PlainObject, at: ChainAddresses): PlainObject {
  return mapBackends(l4, 'l4', (value, where) => {
    if (value === 'forward' || value === REVERSE_PLACEHOLDER) {
      const address = value === 'forward' ? at.forward : at.reverse;
      if (address === undefined) throw new ChainResolveError(`${where}: "${value}" but the chain has no ${value} proxy`);
      return address;
    }
    return demoAddress(value, at, where);
  });
}

/** Pure: the reverse configuration with every pool backend `demo:ID` (string or `address`) replaced by its address. */
export function resolveReverse(reverse: PlainObject, at: ChainAddresses): PlainObject {
  return mapBackends(reverse, 'reverse', (value, where) => demoAddress(value, at, where));
}

function mapBackends(config: PlainObject, section: string, map: (value: string, where: string) => string): PlainObject {
  const pools = config.pools;
  if (!isObject(pools)) return config;
  const out: PlainObject = {};
  for (const [name, pool] of Object.entries(pools)) {
    if (!isObject(pool) || !Array.isArray(pool.backends)) {
      out[name] = pool;
      continue;
    }
    const backends = pool.backends.map((b: unknown, i) => {
      const where = `${section}.pools.${name}.backends.${i}`;
      if (typeof b === 'string') return map(b, where);
      if (isObject(b) && typeof b.address === 'string') return { ...b, address: map(b.address, where) };
      return b;
    });
    out[name] = { ...pool, backends };
  }
  return { ...config, pools: out };
}

function demoAddress(value: string, at: ChainAddresses, where: string): string {
  if (!value.startsWith(DEMO_PREFIX)) return value;
  const id = value.slice(DEMO_PREFIX.length);
  const address = at.demo.get(id);
  if (address === undefined) {
    throw new ChainResolveError(`${where}: no demo backend "${id}" (demoBackends has ${[...at.demo.keys()].join(', ') || 'none'})`);
  }
  return address;
}
