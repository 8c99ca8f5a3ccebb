import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { curlCommand, shellQuote, writeCurlFile } from '../../../src/tui/curl.js';
import { flowEntry, tunnelEntry } from '../../../src/tui/entry.js';
import { buildHar } from '../../../src/tui/har.js';
import { commandFor, helpLine, keyNames } from '../../../src/tui/keymap.js';
import { record, tunnel } from './fixtures.js';

const post = flowEntry(1, {
  ...record({ id: 'a/b', method: 'POST', url: "http://h.test/it's?q=1", status: 201, bytesIn: 10 }),
  headers: {
    request: [['Host', 'h.test'], ['Content-Type', 'application/json'], ['Cookie', '[REDACTED]'], ['Proxy-Authorization', 'Basic x']],
    response: [['Content-Type', 'text/plain'], ['Location', '/next']],
  },
});

describe('curl export', () => {
  it('quotes for the shell and drops hop-by-hop, proxy credentials and redacted fields', () => {
    expect(shellQuote('plain/path')).toBe('plain/path');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(curlCommand(post, 'http://127.0.0.1:8080'))
      .toBe(`curl --proxy http://127.0.0.1:8080 -X POST -H 'Content-Type: application/json' 'http://h.test/it'\\''s?q=1'`);
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

describe('HAR', () => {
  it('builds HAR 1.2 entries from HTTP flows only', () => {
    const har = buildHar([post, tunnelEntry(2, tunnel(), 'now')], '1.2.3');
    expect(har.log.version).toBe('1.2');
    expect(har.log.creator).toEqual({ name: 'portico', version: '1.2.3' });
    expect(har.log.entries).toHaveLength(1);
    const e = har.log.entries[0];
    expect(e?.request).toMatchObject({ method: 'POST', httpVersion: 'HTTP/1.1', bodySize: 10, queryString: [{ name: 'q', value: '1' }] });
    expect(e?.response).toMatchObject({ status: 201, content: { size: 1234, mimeType: 'text/plain' }, redirectURL: '/next' });
    expect(e?.timings).toEqual({ send: 0, wait: 3, receive: 9.5, dns: -1, connect: -1, ssl: -1 });
    expect(e?.time).toBe(12.5);
  });
});

describe('keymap', () => {
  const none = { upArrow: false, downArrow: false, return: false, escape: false } as Parameters<typeof keyNames>[1];
  it('splits a chunk into keys and maps them per screen', () => {
    expect(keyNames('jjj', none)).toEqual(['j', 'j', 'j']);
    expect(keyNames('', { ...none, downArrow: true })).toEqual(['down']);
    expect(commandFor('list', 'j')).toBe('cursor.down');
    expect(commandFor('detail', 'j')).toBeUndefined();
    expect(commandFor('detail', 'x')).toBe('flow.curl');
    expect(commandFor('backends', 'q')).toBe('app.quit');
    expect(helpLine('detail')).toBe('esc back  p pause  b backends  x curl  w save HAR  r replay  ? help  q quit');
  });
});
