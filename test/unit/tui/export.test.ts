import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { curlCommand, shellQuote, writeCurlFile } from '../../../src/tui/curl.js';
import { flowEntry, tunnelEntry } from '../../../src/tui/entry.js';
import { commandFor, helpLine, keyNames } from '../../../src/tui/keymap.js';
import { defaultActions } from '../../../src/tui/run.js';
import { record, tunnel } from './fixtures.js';

const post = flowEntry(1, record({
  id: 'a/b', method: 'POST', url: "http://h.test/it's?q=1", status: 201, bytesIn: 10,
  requestHeaders: [['host', 'h.test'], ['content-type', 'application/json'], ['cookie', '[REDACTED]'], ['proxy-authorization', 'Basic x']],
  responseHeaders: [['content-type', 'text/plain'], ['location', '/next']],
}));

describe('curl export', () => {
  it('quotes for the shell and drops hop-by-hop, proxy credentials and redacted fields', () => {
    expect(shellQuote('plain/path')).toBe('plain/path');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(curlCommand(post, 'http://127.0.0.1:8080'))
      .toBe(`curl --proxy http://127.0.0.1:8080 -X POST -H 'content-type: application/json' 'http://h.test/it'\\''s?q=1'`);
    expect(curlCommand(flowEntry(2, record({ method: 'HEAD' })))).toBe('curl --head http://example.test/index.html');
    expect(curlCommand(tunnelEntry(3, tunnel(), 'now'), 'http://p:1')).toBe('curl --proxy http://p:1 https://secure.test/');
  });

  it('writes portico-flow-<id>.sh with a safe file name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-tui-'));
    const path = await writeCurlFile(dir, post);
    expect(path).toBe(join(dir, 'portico-flow-a_b.sh'));
    expect(await readFile(path, 'utf8')).toContain('curl -X POST');
    expect((await stat(path)).mode & 0o777).toBe(0o700);
  });
});

describe('keymap', () => {
  const none = { upArrow: false, downArrow: false, return: false, escape: false } as Parameters<typeof keyNames>[1];
  it('splits a chunk into keys and maps them per screen', () => {
    expect(keyNames('jjj', none)).toEqual(['j', 'j', 'j']);
    expect(keyNames('4xx\r', none)).toEqual(['4', 'x', 'x', 'enter']);
    expect(keyNames('', { ...none, downArrow: true })).toEqual(['down']);
    expect(commandFor('list', 'j')).toBe('cursor.down');
    expect(commandFor('detail', 'j')).toBe('cursor.down'); // scrolls the detail screen
    expect(commandFor('detail', 'c')).toBeUndefined();
    expect(commandFor('detail', 'x')).toBe('flow.curl');
    expect(commandFor('backends', 'q')).toBe('app.quit');
    expect(helpLine('detail')).toBe('↑/k up  ↓/j down  esc back  p pause  b backends  x curl  w save HAR  r replay  ? help  q quit');
  });
});

describe('HAR from the detail/list key (w)', () => {
  it('saves the shown HTTP flows through observe/har, leaving tunnels out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-tui-'));
    const source = { label: 't', start: () => {}, status: () => 'live', close: () => {} };
    const actions = defaultActions({ source, dir, version: '9.9.9' }, { now: () => Date.UTC(2026, 0, 2), monotonic: () => 0 }, () => {});
    const path = await actions.saveHar([post, tunnelEntry(2, tunnel(), 'now')]);
    expect(path).toBe(join(dir, 'portico-flows-2026-01-02T00-00-00-000Z.har'));
    const har = JSON.parse(await readFile(path, 'utf8')) as { log: { version: string; entries: Array<{ request: { method: string } }> } };
    expect(har.log.version).toBe('1.2');
    expect(har.log.entries.map((e) => e.request.method)).toEqual(['POST']);
  });
});
