import { ewma } from './ewma.js';
import { leastConn } from './least-conn.js';
import { maglev, DEFAULT_MAGLEV } from './maglev.js';
import { p2c } from './p2c.js';
import type { PickerFactory } from './picker.js';
import { random } from './random.js';
import { ringHash, DEFAULT_RING_HASH } from './ring-hash.js';
import { roundRobin } from './round-robin.js';
import { smoothWeighted } from './swrr.js';

/** Where a hash picker's key comes from; the front door (reverse/ or l4/) computes it. */
export type HashSource = { kind: 'ip' } | { kind: 'path' } | { kind: 'header'; name: string } | { kind: 'cookie'; name: string };

export type Algorithm = 'round-robin' | 'weighted' | 'least-conn' | 'p2c' | 'ewma' | 'random' | 'ring-hash' | 'maglev';

export interface BalanceSpec {
  readonly algorithm: Algorithm;
  readonly hashOn?: HashSource;
}

const SIMPLE: Record<string, Algorithm> = {
  'round-robin': 'round-robin', weighted: 'weighted', swrr: 'weighted', 'least-conn': 'least-conn',
  p2c: 'p2c', 'least-request': 'p2c', ewma: 'ewma', 'peak-ewma': 'ewma', random: 'random',
};

export const BALANCE_HELP = 'round-robin|weighted|least-conn|p2c|ewma|random|hash-ip|hash-path|hash-header:NAME|'
  + 'hash-cookie:NAME|maglev-ip|maglev-path|maglev-header:NAME|maglev-cookie:NAME';

/** Parses `--balance` / `balance:`; throws an Error listing the accepted spellings. */
export function parseBalance(text: string): BalanceSpec {
  const simple = Object.hasOwn(SIMPLE, text) ? SIMPLE[text] : undefined; // not "constructor" from the prototype
  if (simple !== undefined) return { algorithm: simple };
  const m = /^(hash|maglev)-(ip|path|header|cookie)(?::([!#$%&'*+.^_`|~0-9A-Za-z-]+))?$/.exec(text);
  if (m !== null) {
    const algorithm: Algorithm = m[1] === 'hash' ? 'ring-hash' : 'maglev';
    const kind = m[2] as 'ip' | 'path' | 'header' | 'cookie';
    const name = m[3];
    if ((kind === 'header' || kind === 'cookie') !== (name !== undefined)) {
      throw new Error(`balance "${text}": ${kind === 'header' || kind === 'cookie' ? `needs a name (${m[1]}-${kind}:NAME)` : 'takes no name'}`);
    }
    return { algorithm, hashOn: kind === 'header' || kind === 'cookie' ? { kind, name: name as string } : { kind } };
  }
  throw new Error(`balance "${text}": expected one of ${BALANCE_HELP}`);
}

/** The picker factory for a spec (tables are built per membership by the factory). */
export function pickerFactory(spec: BalanceSpec): PickerFactory {
  switch (spec.algorithm) {
    case 'round-robin': return () => roundRobin();
    case 'weighted': return () => smoothWeighted();
    case 'least-conn': return () => leastConn();
    case 'p2c': return () => p2c();
    case 'ewma': return () => ewma();
    case 'random': return () => random();
    case 'ring-hash': return ringHash(DEFAULT_RING_HASH);
    case 'maglev': return maglev(DEFAULT_MAGLEV);
  }
}
