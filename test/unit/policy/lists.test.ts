import { describe, expect, it } from 'vitest';
import { detectFormat, parseList } from '../../../src/policy/list-parse.js';
import { buildCategories } from '../../../src/policy/category.js';

describe('list formats', () => {
  it.each([
    ['ads.example\ntracker.example\n', 'domains'],
    ['# comment\n0.0.0.0 ads.example\n', 'hosts'],
    ['127.0.0.1 localhost\n::1 localhost\n', 'hosts'],
    ['[Adblock Plus 2.0]\n||ads.example^\n', 'adblock'],
    ['! title\n||ads.example^\n', 'adblock'],
    ['@@||good.example^\n', 'adblock'],
  ])('detects %j as %s', (text, format) => {
    expect(detectFormat(text.split('\n'))).toBe(format);
  });

  it('reads plain domain lists with comments, *. prefixes, IDN and trailing dots', () => {
    const parsed = parseList('# ads\nAds.Example.\n*.track.example # inline\n\nbücher.example\n', 'ads.txt');
    expect(parsed.entries.map((e) => [e.domain, e.line])).toEqual([
      ['ads.example', 2], ['track.example', 3], ['xn--bcher-kva.example', 5],
    ]);
  });

  it('names file:line for a malformed domain line', () => {
    expect(() => parseList('ok.example\nnot a domain\n', 'rules/lists/x.txt')).toThrow('rules/lists/x.txt:2: not a domain name: "not a domain"');
  });

  it('reads StevenBlack-style hosts files and skips the localhost header', () => {
    const text = '127.0.0.1 localhost\n255.255.255.255 broadcasthost\n::1 localhost ip6-localhost\n0.0.0.0 0.0.0.0\n' +
      '# start\n0.0.0.0 ads.example # c\n0.0.0.0 a.example b.example\n';
    const parsed = parseList(text, 'hosts.txt');
    expect(parsed.format).toBe('hosts');
    expect(parsed.entries.map((e) => e.domain)).toEqual(['ads.example', 'a.example', 'b.example']);
    expect(parsed.skipped).toBe(5);
  });

  it('keeps Adblock domain rules and exceptions, skips and counts other syntax', () => {
    const text = '[Adblock Plus 2.0]\n! comment\n||ads.example^\n@@||ok.ads.example^\n||x.example^$third-party\n' +
      '##.banner\n/ads/*\n||img.example/path^\n||y.example^|\n';
    const parsed = parseList(text, 'easy.txt');
    expect(parsed.entries.map((e) => e.domain)).toEqual(['ads.example', 'y.example']);
    expect(parsed.exceptions.map((e) => e.domain)).toEqual(['ok.ads.example']);
    expect(parsed.skipped).toBe(4);
  });

  it('a category matches subdomains, minus its exceptions', () => {
    const cat = buildCategories([{ category: 'ads', file: 'a.txt', parsed: parseList('||ads.example^\n@@||ok.ads.example^\n', 'a.txt') }]).categories.get('ads')!;
    expect(cat.match('ads.example')?.line).toBe(1);
    expect(cat.match('x.y.ads.example')?.domain).toBe('ads.example');
    expect(cat.match('ok.ads.example')).toBeUndefined();
    expect(cat.match('in.ok.ads.example')).toBeUndefined();
    expect(cat.match('badads.example')).toBeUndefined();
    expect(cat.match('example')).toBeUndefined();
  });
});
