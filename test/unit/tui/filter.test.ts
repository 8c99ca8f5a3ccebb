import { describe, expect, it } from 'vitest';
import { flowEntry, tunnelEntry } from '../../../src/tui/entry.js';
import { parseFilter } from '../../../src/tui/filter.js';
import { record, tunnel } from './fixtures.js';

const get = flowEntry(1, record());
const post404 = flowEntry(2, record({ method: 'POST', url: 'https://api.other.test/v1/login?x=1', status: 404 }));
const blocked = flowEntry(3, record({
  url: 'http://ads.test/', status: 403, notes: { policy: { action: 'block', rule: 'ads', explain: '' } },
}));
const reportOnly = flowEntry(4, record({
  url: 'http://ads.test/', notes: { policy: { action: 'block', rule: 'ads', explain: '', reportOnly: true } },
}));
const hit = flowEntry(5, record({ notes: { cache: 'hit' } }));
const failed = flowEntry(6, record({ status: 502, error: { code: 'CONNECT_REFUSED', message: 'refused' } }));
const tun = tunnelEntry(7, tunnel(), '2026-01-01T12:00:00.000Z');
const tunErr = tunnelEntry(8, tunnel({ error: 'reset' }), '2026-01-01T12:00:00.000Z');
const reverse = flowEntry(9, record({ mode: 'reverse', status: 201 }));
const entries = { get, post404, blocked, reportOnly, hit, failed, tun, tunErr, reverse };
type Name = keyof typeof entries;

function matching(filter: string): Name[] {
  const r = parseFilter(filter);
  if (!r.ok) throw new Error(`${r.message} at ${r.position}`);
  return (Object.keys(entries) as Name[]).filter((n) => r.match(entries[n]));
}

describe('parseFilter: matching', () => {
  it.each<[string, Name[]]>([
    ['', Object.keys(entries) as Name[]],
    ['~d other', ['post404']],
    ['~d EXAMPLE', ['get', 'hit', 'failed', 'reverse']],
    ['~u login', ['post404']],
    ['login', ['post404']],
    ['~c 404', ['post404']],
    ['~c 4xx', ['post404', 'blocked']],
    ['~c 5xx', ['failed']],
    ['~c 20x', ['get', 'reportOnly', 'hit', 'reverse']],
    ['~m post', ['post404']],
    ['~blocked', ['blocked']],
    ['~hit', ['hit']],
    ['~e', ['failed', 'tunErr']],
    ['~t tunnel', ['tun', 'tunErr']],
    ['~t reverse', ['reverse']],
    ['~d ads & ~c 403', ['blocked']],
    ['~d ads ~c 403', ['blocked']],
    ['~hit | ~blocked', ['blocked', 'hit']],
    ['!~t http', ['tun', 'tunErr']],
    ['!(~c 2xx | ~t tunnel)', ['post404', 'blocked', 'failed']],
    ['~m GET & !(~d ads | ~e) & ~t http', ['get', 'hit', 'reverse']],
    ['"index.html"', ['get', 'hit', 'failed', 'reverse']],
  ])('%j', (filter, expected) => {
    expect(matching(filter)).toEqual(expected);
  });
});

describe('parseFilter: errors carry a position and never throw', () => {
  it.each<[string, string, number]>([
    ['~zz', 'unknown filter ~zz', 0],
    ['~constructor', 'unknown filter ~constructor', 0],
    ['~__proto__ x', 'unknown filter ~__proto__', 0],
    ['~d', '~d needs an argument', 2],
    ['~c abc', '~c wants a status', 3],
    ['~t pigeon', '~t wants tunnel', 3],
    ['(~hit', 'missing ")"', 5],
    ['~hit )', 'unexpected ")"', 5],
    ['~hit |', 'expected a filter', 6],
    ['"open', 'unterminated quote', 0],
    ['a & & b', 'unexpected "&"', 4],
    ['~ x', 'expected a filter name', 0],
  ])('%j', (filter, message, position) => {
    const r = parseFilter(filter);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toContain(message);
    expect(r.position).toBe(position);
  });
});
